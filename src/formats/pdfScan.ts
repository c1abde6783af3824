/**
 * A linear pre-scan of a PDF's bytes, run before any object is parsed: pdf-lib's parser loads
 * the whole object graph and recurses into nested arrays and dictionaries, so the object count
 * and the nesting depth are bounded here first. Stream bodies, strings and comments are skipped
 * (their bytes are data, not structure).
 */

export interface ScanLimits {
  maxObjects: number;
  maxDepth: number;
}

export type ScanResult = { ok: true; objects: number } | { ok: false; what: 'objects' | 'depth'; limit: number } | { ok: false; what: 'unterminated'; at: number };

const isSpace = (b: number) => b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09 || b === 0x0c || b === 0x00;
const isDelimiter = (b: number | undefined) => b === undefined || isSpace(b) || b === 0x3c || b === 0x3e || b === 0x5b || b === 0x5d || b === 0x2f || b === 0x28 || b === 0x25;

/** Whether `word` stands at `i` as a keyword (delimited on both sides). */
function keywordAt(bytes: Uint8Array, i: number, word: string): boolean {
  if (i > 0 && !isDelimiter(bytes[i - 1])) return false;
  for (let k = 0; k < word.length; k++) if (bytes[i + k] !== word.charCodeAt(k)) return false;
  return isDelimiter(bytes[i + word.length]);
}

const ENDSTREAM = Buffer.from('endstream');
const ENDOBJ = Buffer.from('endobj');

export function scanPdf(bytes: Uint8Array, limits: ScanLimits): ScanResult {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let depth = 0;
  let objects = 0;
  for (let i = 0; i < buf.length; i++) {
    const b = buf[i]!;
    if (b === 0x25) {
      // A comment runs to the end of the line.
      while (i < buf.length && buf[i] !== 0x0a && buf[i] !== 0x0d) i++;
    } else if (b === 0x28) {
      // A literal string: balanced parentheses, backslash escapes.
      const start = i;
      let open = 1;
      for (i++; i < buf.length && open > 0; i++) {
        if (buf[i] === 0x5c) i++;
        else if (buf[i] === 0x28) open++;
        else if (buf[i] === 0x29) open--;
      }
      // Unterminated, it would make every object after it a scan to the end of the file.
      if (open > 0) return { ok: false, what: 'unterminated', at: start };
      i--;
    } else if (b === 0x5b || (b === 0x3c && buf[i + 1] === 0x3c)) {
      if (++depth > limits.maxDepth) return { ok: false, what: 'depth', limit: limits.maxDepth };
      if (b === 0x3c) i++;
    } else if (b === 0x5d || (b === 0x3e && buf[i + 1] === 0x3e)) {
      depth = Math.max(0, depth - 1);
      if (b === 0x3e) i++;
    } else if (b === 0x3c) {
      // A hex string.
      const end = buf.indexOf(0x3e, i + 1);
      i = end < 0 ? buf.length : end;
    } else if (b === 0x6f && keywordAt(buf, i, 'obj')) {
      if (++objects > limits.maxObjects) return { ok: false, what: 'objects', limit: limits.maxObjects };
      depth = 0; // an object starts at the top level: damage before it does not carry over
      i += 2;
    } else if (b === 0x73 && keywordAt(buf, i, 'stream')) {
      // A stream must end before its object does: else each reader scans on to the end of the file.
      const end = buf.indexOf(ENDSTREAM, i + 6);
      const endobj = buf.indexOf(ENDOBJ, i + 6);
      if (end < 0 || (endobj >= 0 && endobj < end)) return { ok: false, what: 'unterminated', at: i };
      i = end + ENDSTREAM.length - 1;
    }
  }
  return { ok: true, objects };
}

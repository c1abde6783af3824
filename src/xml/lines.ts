/**
 * Line numbers of elements taken from the source text, for documents longer than the 65,535
 * lines libxml2 stores per node. In a well-formed document without a DTD, every `<` outside
 * comments, CDATA sections and processing instructions that is not `</` opens the next
 * element in document order (attribute values and text cannot hold a raw `<`). One linear
 * pass; lines are counted as libxml2 counts them (line feeds).
 */
export function elementLines(bytes: Uint8Array, encoding?: string): number[] {
  const text = decode(bytes, encoding);
  const lines: number[] = [];
  let line = 1;
  let counted = 0;
  const advance = (to: number) => {
    for (let i = text.indexOf('\n', counted); i >= 0 && i < to; i = text.indexOf('\n', i + 1)) line++;
    counted = Math.max(counted, to);
  };
  for (let i = text.indexOf('<'); i >= 0; i = text.indexOf('<', i + 1)) {
    const next = text[i + 1];
    let close: string | undefined;
    if (text.startsWith('<!--', i)) close = '-->';
    else if (text.startsWith('<![CDATA[', i)) close = ']]>';
    else if (next === '?') close = '?>';
    if (close) {
      const end = text.indexOf(close, i + 2);
      if (end < 0) break;
      i = end;
      continue;
    }
    if (next === '/' || next === '!') continue;
    advance(i);
    lines.push(line);
  }
  return lines;
}

// UTF-16 is decoded; every other encoding factflow reads is ASCII-compatible.
function decode(bytes: Uint8Array, encoding?: string): string {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  if (encoding === 'UTF-16LE') return buf.toString('utf16le');
  if (encoding === 'UTF-16BE') return Buffer.from(buf).swap16().toString('utf16le');
  return buf.toString('latin1');
}

/**
 * Where the DOCTYPE of a document libxml2 found one in stands, for the error's location only
 * (the refusal itself is libxml2's). Comments and processing instructions are skipped.
 */
export function doctypeLocation(bytes: Uint8Array, encoding?: string): { line: number; column: number } | undefined {
  const text = decode(bytes, encoding);
  for (let i = text.indexOf('<'); i >= 0; i = text.indexOf('<', i + 1)) {
    const close = text.startsWith('<!--', i) ? '-->' : text[i + 1] === '?' ? '?>' : undefined;
    if (close) {
      const end = text.indexOf(close, i + 2);
      if (end < 0) return undefined;
      i = end;
      continue;
    }
    if (!text.startsWith('<!DOCTYPE', i)) return undefined;
    let line = 1;
    let lineStart = 0;
    for (let k = text.indexOf('\n'); k >= 0 && k < i; k = text.indexOf('\n', k + 1)) {
      line++;
      lineStart = k + 1;
    }
    return { line, column: i - lineStart + 1 };
  }
  return undefined;
}

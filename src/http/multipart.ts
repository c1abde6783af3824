/**
 * multipart/form-data, as the standard's deposit sends it (a `flowInfo` JSON part and a `file`
 * part), parsed from the whole body (already capped at maxFlowBytes).
 */
export interface Part {
  name: string;
  filename?: string;
  contentType?: string;
  data: Buffer;
}

export function boundaryOf(contentType: string): string | undefined {
  const m = /boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
  return m ? (m[1] ?? m[2]) : undefined;
}

/** The parts of a body; throws with a message saying what is malformed. */
export function parseMultipart(body: Buffer, boundary: string): Part[] {
  const delimiter = Buffer.from(`--${boundary}`);
  const parts: Part[] = [];
  let pos = body.indexOf(delimiter);
  if (pos < 0) throw new Error('the body holds no part delimited by its boundary');
  for (;;) {
    pos += delimiter.length;
    if (body.subarray(pos, pos + 2).toString() === '--') return parts;
    if (body.subarray(pos, pos + 2).toString() !== '\r\n') throw new Error('a part delimiter is not followed by CRLF');
    const headerEnd = body.indexOf('\r\n\r\n', pos + 2);
    if (headerEnd < 0) throw new Error('a part has no end of headers');
    const headers = body.subarray(pos + 2, headerEnd).toString('utf8').split('\r\n');
    const next = body.indexOf(Buffer.concat([Buffer.from('\r\n'), delimiter]), headerEnd + 4);
    if (next < 0) throw new Error('the last part is not closed by the boundary');
    const part: Part = { name: '', data: body.subarray(headerEnd + 4, next) };
    for (const h of headers) {
      const [key, ...rest] = h.split(':');
      const value = rest.join(':').trim();
      if (/^content-disposition$/i.test(key!.trim())) {
        part.name = /\bname="([^"]*)"/i.exec(value)?.[1] ?? '';
        const file = /\bfilename="([^"]*)"/i.exec(value)?.[1];
        if (file !== undefined) part.filename = file;
      } else if (/^content-type$/i.test(key!.trim())) part.contentType = value;
    }
    parts.push(part);
    pos = next + 2;
  }
}

/**
 * A pdf-lib object graph (PDFContext) written to bytes synchronously: header, the indirect
 * objects in number order, a cross-reference table and the trailer. pdf-lib's own writer is
 * asynchronous (it yields to the event loop between objects), which the synchronous delivery
 * of a flow cannot wait for; the objects themselves know their size and bytes.
 */
import type { PDFContext, PDFObject, PDFRawStream, PDFRef } from 'pdf-lib';

// The binary comment tells transfer tools the file is not text.
const HEADER = Buffer.from('%PDF-1.7\n%\xE2\xE3\xCF\xD3\n', 'latin1');

export function writePdf(context: PDFContext, root: PDFRef, info: PDFRef): Buffer {
  const objects = context.enumerateIndirectObjects();
  const parts: Buffer[] = [HEADER];
  const offsets: number[] = [];
  let at = HEADER.length;
  for (const [ref, object] of objects) {
    offsets[ref.objectNumber] = at;
    for (const part of indirect(ref, object)) {
      parts.push(part);
      at += part.length;
    }
  }
  const size = objects.length ? objects[objects.length - 1]![0].objectNumber + 1 : 1;
  let xref = `xref\n0 ${size}\n0000000000 65535 f \n`;
  for (let n = 1; n < size; n++) {
    const offset = offsets[n];
    xref += offset === undefined ? '0000000000 65535 f \n' : `${String(offset).padStart(10, '0')} 00000 n \n`;
  }
  xref += `trailer\n<< /Size ${size} /Root ${root.toString()} /Info ${info.toString()} >>\nstartxref\n${at}\n%%EOF\n`;
  parts.push(Buffer.from(xref, 'latin1'));
  return Buffer.concat(parts);
}

const isRawStream = (o: PDFObject): o is PDFRawStream => 'contents' in o && 'dict' in o;

/** One indirect object; a stream's contents are passed through, not copied (pdf-lib copies them byte by byte). */
function indirect(ref: PDFRef, object: PDFObject): Buffer[] {
  const head = `${ref.objectNumber} ${ref.generationNumber} obj\n`;
  if (isRawStream(object)) {
    object.updateDict();
    const dict = serialize(head, object.dict, '\nstream\n');
    return [dict, Buffer.from(object.contents.buffer, object.contents.byteOffset, object.contents.byteLength), ENDSTREAM];
  }
  return [serialize(head, object, '\nendobj\n')];
}

const ENDSTREAM = Buffer.from('\nendstream\nendobj\n', 'latin1');

function serialize(head: string, object: PDFObject, tail: string): Buffer {
  const size = object.sizeInBytes();
  const buf = Buffer.allocUnsafe(head.length + size + tail.length);
  buf.write(head, 0, 'latin1');
  object.copyBytesInto(buf, head.length);
  buf.write(tail, head.length + size, 'latin1');
  return buf;
}

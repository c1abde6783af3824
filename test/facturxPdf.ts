/** Small Factur-X PDFs crafted for tests: real ones with pdf-lib, hostile ones byte by byte. */
import { AFRelationship, PDFDocument, PDFName } from 'pdf-lib';

export interface FacturxSpec {
  xml: Buffer;
  /** fx:ConformanceLevel in the XMP; no XMP at all when null. */
  level?: string | null;
  fileName?: string;
  /** Further embedded files (name → content). */
  extra?: Record<string, Buffer>;
  documentFileName?: string;
  objectStreams?: boolean;
}

/** An XMP packet with pdfaid:part 3 and the fx: extension schema, as Factur-X writers produce. */
export function xmp(level: string, documentFileName = 'factur-x.xml'): string {
  return `<?xpacket begin="\uFEFF" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
<rdf:Description rdf:about="" xmlns:pdfaid="http://www.aiim.org/pdfa/ns/id/"><pdfaid:part>3</pdfaid:part><pdfaid:conformance>B</pdfaid:conformance></rdf:Description>
<rdf:Description rdf:about="" xmlns:fx="urn:factur-x:pdfa:CrossIndustryDocument:invoice:1p0#"><fx:DocumentType>INVOICE</fx:DocumentType><fx:DocumentFileName>${documentFileName}</fx:DocumentFileName><fx:Version>1.0</fx:Version><fx:ConformanceLevel>${level}</fx:ConformanceLevel></rdf:Description>
<rdf:Description rdf:about="" xmlns:pdfaExtension="http://www.aiim.org/pdfa/ns/extension/" xmlns:pdfaSchema="http://www.aiim.org/pdfa/ns/schema#"><pdfaExtension:schemas><rdf:Bag><rdf:li rdf:parseType="Resource"><pdfaSchema:schema>Factur-X PDFA Extension Schema</pdfaSchema:schema><pdfaSchema:namespaceURI>urn:factur-x:pdfa:CrossIndustryDocument:invoice:1p0#</pdfaSchema:namespaceURI><pdfaSchema:prefix>fx</pdfaSchema:prefix></rdf:li></rdf:Bag></pdfaExtension:schemas></rdf:Description>
</rdf:RDF></x:xmpmeta>
<?xpacket end="w"?>`;
}

export async function makeFacturx(spec: FacturxSpec): Promise<Buffer> {
  const doc = await PDFDocument.create();
  doc.addPage([595, 842]);
  const name = spec.fileName ?? 'factur-x.xml';
  await doc.attach(spec.xml, name, { mimeType: 'text/xml', afRelationship: AFRelationship.Alternative });
  for (const [n, content] of Object.entries(spec.extra ?? {})) await doc.attach(content, n, { mimeType: 'text/xml', afRelationship: AFRelationship.Data });
  if (spec.level !== null) {
    const stream = doc.context.flateStream(Buffer.from(xmp(spec.level ?? 'EN 16931', spec.documentFileName ?? name), 'utf8'), { Type: 'Metadata', Subtype: 'XML' });
    doc.catalog.set(PDFName.of('Metadata'), doc.context.register(stream));
  }
  return Buffer.from(await doc.save({ useObjectStreams: spec.objectStreams ?? true }));
}

export { embeddingCatalog, flateStream, rawPdf } from '../src/devtools/pdfs.js';

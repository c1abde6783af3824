/**
 * XSD schemas compiled once per process and reused for every document (compiling the
 * schema per document is what makes naive validators 100x slower).
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { XmlDocument, XmlValidateError, XsdValidator } from 'libxml2-wasm';
import { error as libxmlError, xmlSchemaFreeValidCtxt, xmlSchemaNewValidCtxt, xmlSchemaSetValidStructuredErrors, xmlSchemaValidateDoc, type ErrorDetail } from 'libxml2-wasm/lib/libxml2.mjs';
import { xmlRegisterFsInputProviders } from 'libxml2-wasm/lib/nodejs.mjs';
import { flowError, type FlowError } from '../errors/catalog.js';
import { libxmlErrors } from './parse.js';

/** The project's own schemas, in `schemas/` at the package root. */
export const SCHEMA_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../schemas');

export type SchemaName = 'mixed' | 'statut' | 'pivot' | 'ubl-invoice' | 'ubl-creditnote' | 'cii' | 'cii-d16b' | 'cii-d22b'
  | 'cdar' | 'facturx-minimum' | 'facturx-basicwl' | 'facturx-basic' | 'facturx-en16931' | 'facturx-extended';

const FILES: Record<SchemaName, string> = {
  mixed: 'CPPFactureMixte.xsd',
  statut: 'CPPStatut.xsd',
  pivot: 'CPPFacturePivot.xsd',
  cdar: 'CDAR-hub.xsd',
  'ubl-invoice': 'UBL-Invoice-hub.xsd',
  'ubl-creditnote': 'UBL-CreditNote-hub.xsd',
  // 'cii' is told apart by content (see ciiSchema); the others are plain files.
  cii: 'CII-hub.xsd',
  'cii-d16b': 'CII-hub.xsd',
  'cii-d22b': 'CII-D22B-hub.xsd',
  'facturx-minimum': 'Factur-X-MINIMUM-hub.xsd',
  'facturx-basicwl': 'Factur-X-BASICWL-hub.xsd',
  'facturx-basic': 'Factur-X-BASIC-hub.xsd',
  'facturx-en16931': 'Factur-X-EN16931-hub.xsd',
  'facturx-extended': 'Factur-X-EXTENDED-hub.xsd',
};

export interface CompiledSchema {
  name: string;
  /** Coded errors (line, column, element) for every violation, empty when valid. */
  check(doc: XmlDocument, maxErrors?: number): FlowError[];
}

const compiled = new Map<string, CompiledSchema>();
let fsRegistered = false;

export function schema(name: SchemaName): CompiledSchema {
  if (name === 'cii') return ciiSchema();
  return schemaFromFile(path.join(SCHEMA_DIR, FILES[name]), name);
}

/* --- CII D16B / D22B (to be re-homed into the format registry) --- */

export type CiiSyntax = 'D16B' | 'D22B';

/**
 * CII D16B and D22B share every namespace, so the syntax is told by content: a document valid
 * against the D16B hub schema is D16B; otherwise it is judged against D22B (a superset of D16B,
 * and the syntax the French rules require), whose errors are the ones reported.
 */
export function ciiSyntaxOf(doc: XmlDocument, maxErrors = 20): { syntax: CiiSyntax; errors: FlowError[] } {
  if (schema('cii-d16b').check(doc, 1).length === 0) return { syntax: 'D16B', errors: [] };
  return { syntax: 'D22B', errors: schema('cii-d22b').check(doc, maxErrors) };
}

let cii: CompiledSchema | undefined;
const ciiSchema = (): CompiledSchema => (cii ??= { name: 'cii', check: (doc, maxErrors) => ciiSyntaxOf(doc, maxErrors).errors });
/* --- end CII */

/** Keeps the first `max` errors and counts the rest: what libxml2 reports past them is dropped at once. */
class FirstErrors extends Array<ErrorDetail> {
  constructor(private readonly max: number) {
    super();
  }
  override push(...items: ErrorDetail[]): number {
    for (const d of items) if (this.length < this.max) super.push(d);
    return this.length;
  }
}

/**
 * Validates as XsdValidator.validate does, but keeps only the errors a report shows: a
 * document can make libxml2 report one error per attribute (200,000 of them), and keeping
 * each one, with its element path, would hold hundreds of MB for nothing.
 */
function validateKeeping(validator: XsdValidator, doc: XmlDocument, max: number): void {
  const ctx = xmlSchemaNewValidCtxt((validator as unknown as { _ptr: number })._ptr);
  const kept = new FirstErrors(Math.max(1, max));
  const index = libxmlError.storage.allocate(kept);
  try {
    xmlSchemaSetValidStructuredErrors(ctx, libxmlError.errorCollector, index);
    const ret = xmlSchemaValidateDoc(ctx, (doc as unknown as { _ptr: number })._ptr);
    if (ret < 0) throw new Error('Invalid input or internal error');
    if (ret > 0) throw XmlValidateError.fromDetails([...kept]);
  } finally {
    libxmlError.storage.free(index);
    xmlSchemaFreeValidCtxt(ctx);
  }
}

/** Compiles any XSD file once (also used by tests for the official schemas). */
export function schemaFromFile(file: string, name = path.basename(file)): CompiledSchema {
  const cached = compiled.get(file);
  if (cached) return cached;
  // Schemas include their shared parts from disk. Instance documents never load anything:
  // their DOCTYPE is refused before parsing and XInclude is not processed.
  if (!fsRegistered) fsRegistered = xmlRegisterFsInputProviders() || true;
  const xsdDoc = XmlDocument.fromBuffer(fs.readFileSync(file), { url: file });
  // The compiled schema keeps pointers into its source document: both live for the process.
  const validator = XsdValidator.fromDoc(xsdDoc);
  const result: CompiledSchema = {
    name,
    check(doc, maxErrors = 20) {
      try {
        validateKeeping(validator, doc, maxErrors);
        return [];
      } catch (e) {
        return libxmlErrors(e, maxErrors, (d) => flowError('SCHEMA_INVALID', { schema: name, detail: d.message }, d));
      }
    },
  };
  compiled.set(file, result);
  return result;
}

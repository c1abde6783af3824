/**
 * XSD schemas compiled once per process and reused for every document (compiling the
 * schema per document is what makes naive validators 100x slower).
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { XmlDocument, XsdValidator } from 'libxml2-wasm';
import { xmlRegisterFsInputProviders } from 'libxml2-wasm/lib/nodejs.mjs';
import { flowError, type FlowError } from '../errors/catalog.js';
import { libxmlErrors } from './parse.js';

/** The project's own schemas, in `schemas/` at the package root. */
export const SCHEMA_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../schemas');

export type SchemaName = 'mixed' | 'statut' | 'pivot' | 'ubl-invoice' | 'ubl-creditnote' | 'cii';

const FILES: Record<SchemaName, string> = {
  mixed: 'CPPFactureMixte.xsd',
  statut: 'CPPStatut.xsd',
  pivot: 'CPPFacturePivot.xsd',
  'ubl-invoice': 'UBL-Invoice-hub.xsd',
  'ubl-creditnote': 'UBL-CreditNote-hub.xsd',
  cii: 'CII-hub.xsd',
};

export interface CompiledSchema {
  name: string;
  /** Coded errors (line, column, element) for every violation, empty when valid. */
  check(doc: XmlDocument, maxErrors?: number): FlowError[];
}

const compiled = new Map<string, CompiledSchema>();
let fsRegistered = false;

export function schema(name: SchemaName): CompiledSchema {
  return schemaFromFile(path.join(SCHEMA_DIR, FILES[name]), name);
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
        validator.validate(doc);
        return [];
      } catch (e) {
        return libxmlErrors(e, maxErrors, (d) => flowError('SCHEMA_INVALID', { schema: name, detail: d.message }, d));
      }
    },
  };
  compiled.set(file, result);
  return result;
}

/**
 * pdf-lib and fontkit, loaded on the first rendering rather than at start-up: together they
 * take most of a second to load, which every command of the CLI would otherwise pay. Only
 * pdf-lib's object model is loaded (not its page API and standard-font metrics).
 */
import { createRequire } from 'node:module';
import type { PDFContext, PDFHexString, PDFRef, PDFString } from 'pdf-lib';
import type { Fontkit } from 'pdf-lib/cjs/types/fontkit.js';

interface PdfObjects {
  PDFContext: typeof PDFContext;
  PDFHexString: typeof PDFHexString;
  PDFString: typeof PDFString;
  PDFRef: typeof PDFRef;
}

const require = createRequire(import.meta.url);
let pdf: PdfObjects | undefined;
let fk: Fontkit | undefined;

const defaultOf = <T>(id: string): T => (require(id) as { default: T }).default;

export const pdfLib = (): PdfObjects =>
  (pdf ??= {
    PDFContext: defaultOf('pdf-lib/cjs/core/PDFContext.js'),
    PDFHexString: defaultOf('pdf-lib/cjs/core/objects/PDFHexString.js'),
    PDFString: defaultOf('pdf-lib/cjs/core/objects/PDFString.js'),
    PDFRef: defaultOf('pdf-lib/cjs/core/objects/PDFRef.js'),
  });
export const fontkit = (): Fontkit => (fk ??= require('@pdf-lib/fontkit') as Fontkit);
/** Resolves a file shipped in a package (the fonts). */
export const packageFile = (specifier: string): string => require.resolve(specifier);

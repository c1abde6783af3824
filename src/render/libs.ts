/**
 * pdf-lib and fontkit, loaded on the first rendering rather than at start-up: together they
 * take most of a second to load, which every command of the CLI would otherwise pay.
 */
import { createRequire } from 'node:module';
import type { Fontkit } from 'pdf-lib/cjs/types/fontkit.js';

type PdfLib = typeof import('pdf-lib');

const require = createRequire(import.meta.url);
let pdf: PdfLib | undefined;
let fk: Fontkit | undefined;

export const pdfLib = (): PdfLib => (pdf ??= require('pdf-lib') as PdfLib);
export const fontkit = (): Fontkit => (fk ??= require('@pdf-lib/fontkit') as Fontkit);
/** Resolves a file shipped in a package (the fonts). */
export const packageFile = (specifier: string): string => require.resolve(specifier);

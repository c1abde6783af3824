/**
 * pdf-lib, loaded at the first PDF a process reads rather than at start-up: it costs about
 * 150 ms and 15 MB, which every command and every worker thread would otherwise pay.
 */
import { createRequire } from 'node:module';
import type * as PdfLib from 'pdf-lib';

const require = createRequire(import.meta.url);
let lib: typeof PdfLib | undefined;

export const pdfLib = (): typeof PdfLib => (lib ??= require('pdf-lib') as typeof PdfLib);

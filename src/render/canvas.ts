/**
 * A small drawing surface over PDF content streams: text in the two embedded fonts, filled
 * rectangles and rules, on A4 pages added as the layout needs them. Coordinates are points
 * from the top-left corner (the layout thinks top-down; PDF counts from the bottom).
 */
import zlib from 'node:zlib';
import type { PDFContext, PDFRef } from 'pdf-lib';
import { pdfLib } from './libs.js';
import { DocumentFont, type FontStyle } from './fonts.js';

export const A4 = { width: 595.28, height: 841.89 };

export type Rgb = readonly [number, number, number];
export const BLACK: Rgb = [0.1, 0.1, 0.12];

const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
const CONTROL_ALL = /[\u0000-\u001f\u007f-\u009f]/g;
const FONT_KEYS: Record<FontStyle, string> = { regular: 'F1', bold: 'F2' };
const n = (v: number) => (Math.round(v * 100) / 100).toString();
/** Colour operators, formatted once per colour. */
const fills = new Map<Rgb, string>();
const strokes = new Map<Rgb, string>();
const fill = (c: Rgb) => fills.get(c) ?? (fills.set(c, `${n(c[0])} ${n(c[1])} ${n(c[2])} rg`), fills.get(c)!);
const stroke = (c: Rgb) => strokes.get(c) ?? (strokes.set(c, `${n(c[0])} ${n(c[1])} ${n(c[2])} RG`), strokes.get(c)!);

export class Canvas {
  readonly fonts: Record<FontStyle, DocumentFont> = { regular: new DocumentFont('regular'), bold: new DocumentFont('bold') };
  private readonly pages: string[][] = [];

  get pageCount(): number {
    return this.pages.length;
  }

  newPage(): void {
    this.pages.push([]);
  }

  /** Draws on page `page` (0-based), by default the last one. */
  private ops(page?: number): string[] {
    return this.pages[page ?? this.pages.length - 1]!;
  }

  width(text: string, size: number, style: FontStyle = 'regular'): number {
    return this.fonts[style].width(text, size);
  }

  text(raw: string, x: number, top: number, size: number, opts: { style?: FontStyle; color?: Rgb; align?: 'left' | 'right' | 'center'; page?: number } = {}): void {
    // Control characters have no glyph: shown as spaces.
    const text = CONTROL.test(raw) ? raw.replace(CONTROL_ALL, ' ') : raw;
    if (!text) return;
    const style = opts.style ?? 'regular';
    const w = opts.align && opts.align !== 'left' ? this.width(text, size, style) : 0;
    const left = opts.align === 'right' ? x - w : opts.align === 'center' ? x - w / 2 : x;
    const hex = this.fonts[style].encode(text);
    // The baseline sits 0.8 em below the top of the line box.
    this.ops(opts.page).push(`BT ${fill(opts.color ?? BLACK)} /${FONT_KEYS[style]} ${size} Tf 1 0 0 1 ${n(left)} ${n(A4.height - top - size * 0.8)} Tm <${hex}> Tj ET`);
  }

  rect(x: number, top: number, w: number, h: number, color: Rgb): void {
    this.ops().push(`${fill(color)} ${n(x)} ${n(A4.height - top - h)} ${n(w)} ${n(h)} re f`);
  }

  rule(x1: number, top: number, x2: number, color: Rgb, width = 0.5, page?: number): void {
    const y = n(A4.height - top);
    this.ops(page).push(`${stroke(color)} ${width} w ${n(x1)} ${y} m ${n(x2)} ${y} l S`);
  }

  /** Text cut to fit `max` points, with an ellipsis when cut. */
  fit(text: string, max: number, size: number, style: FontStyle = 'regular'): string {
    if (this.width(text, size, style) <= max) return text;
    const chars = [...text];
    while (chars.length && this.width(chars.join('') + '…', size, style) > max) chars.pop();
    return chars.join('') + '…';
  }

  /** Words broken into lines of at most `max` points; a word longer than a line is split across lines. */
  wrap(text: string, max: number, size: number, style: FontStyle = 'regular'): string[] {
    const lines: string[] = [];
    for (const paragraph of text.split(/\r?\n/)) {
      let line = '';
      for (let word of paragraph.split(/\s+/).filter(Boolean)) {
        const candidate = line ? `${line} ${word}` : word;
        if (this.width(candidate, size, style) <= max) {
          line = candidate;
          continue;
        }
        if (line) lines.push(line);
        while (this.width(word, size, style) > max) {
          const chars = [...word];
          let n = chars.length - 1;
          while (n > 1 && this.width(chars.slice(0, n).join(''), size, style) > max) n--;
          lines.push(chars.slice(0, n).join(''));
          word = chars.slice(n).join('');
        }
        line = word;
      }
      lines.push(line);
    }
    return lines;
  }

  /** The document's objects: fonts, one content stream and page per page, the catalog. */
  finish(context: PDFContext, meta: { title: string; subject: string }): { root: PDFRef; info: PDFRef } {
    const { PDFHexString, PDFString } = pdfLib();
    const fonts = {
      F1: this.fonts.regular.embed(context, 'AAAAAA+DejaVuSans'),
      F2: this.fonts.bold.embed(context, 'AAAAAB+DejaVuSans-Bold'),
    };
    const pagesRef = context.nextRef();
    const kids = this.pages.map((ops) => {
      const contents = context.register(context.stream(zlib.deflateSync(Buffer.from(ops.join('\n'), 'latin1'), { level: 1 }), { Filter: 'FlateDecode' }));
      return context.register(
        context.obj({ Type: 'Page', Parent: pagesRef, MediaBox: [0, 0, A4.width, A4.height], Resources: { Font: fonts }, Contents: contents }),
      );
    });
    context.assign(pagesRef, context.obj({ Type: 'Pages', Kids: kids, Count: kids.length }));
    const root = context.register(
      context.obj({ Type: 'Catalog', Pages: pagesRef, Lang: PDFString.of('fr-FR'), ViewerPreferences: { DisplayDocTitle: true } }),
    );
    const info = context.register(
      // No creation or modification date: the same invoice renders to the same bytes.
      context.obj({ Title: PDFHexString.fromText(meta.title), Subject: PDFHexString.fromText(meta.subject), Producer: PDFString.of('factflow'), Creator: PDFString.of('factflow') }),
    );
    return { root, info };
  }
}

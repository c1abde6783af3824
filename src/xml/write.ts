/** A minimal XML writer: elements as strings, text escaped, optional elements omitted. */

// Characters XML 1.0 cannot carry at all; dropped rather than emitting an unreadable file.
const INVALID_XML_CHARS = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g;
const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' };

export const escapeXml = (s: string): string => s.replace(INVALID_XML_CHARS, '').replace(/[&<>"]/g, (c) => ESCAPES[c]!);

type Content = string | undefined | false | Content[];

const flatten = (c: Content): string => (Array.isArray(c) ? c.map(flatten).join('') : c || '');

/** An element holding other elements (already serialised). */
export function el(name: string, children: Content, attrs: Record<string, string | number> = {}): string {
  const a = Object.entries(attrs).map(([k, v]) => ` ${k}="${escapeXml(String(v))}"`).join('');
  return `<${name}${a}>\n${flatten(children)}</${name}>\n`;
}

/** An element holding text; omitted when the value is undefined or empty. */
export function leaf(name: string, value: string | number | undefined): string {
  if (value === undefined || value === '') return '';
  return `<${name}>${escapeXml(String(value))}</${name}>\n`;
}

/** An element holding base64 text, which never needs escaping (and can be megabytes long). */
export function base64Leaf(name: string, base64: string): string {
  return `<${name}>${base64}</${name}>\n`;
}

export const XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n';

/**
 * Attachment names are relayed to buyers (NomPJ, and the entry name inside the PJ zip), whose
 * tools may extract them: a name must be one plain file name, never a path. Refused:
 * - path separators `/` and `\`, and `:` (drive letters, NTFS streams);
 * - a leading `.` (dotfiles, `.` and `..`) and leading or trailing white space;
 * - control characters (C0, DEL, C1) and the bidirectional overrides that disguise an
 *   extension (U+202A-U+202E, U+2066-U+2069, U+200E, U+200F);
 * - unpaired UTF-16 surrogates (not text: no UTF-8 spelling).
 * Returns why, or undefined for a safe name. One pass, no regular expression.
 */
export function unsafeFileNameReason(name: string): string | undefined {
  if (name === '') return 'it is empty';
  if (name[0] === '.') return 'it starts with a dot';
  if (/^\s|\s$/u.test(name)) return 'it starts or ends with white space';
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c === 0x2f || c === 0x5c) return 'it holds a path separator';
    if (c === 0x3a) return 'it holds a colon';
    if (c < 0x20 || (c >= 0x7f && c <= 0x9f)) return 'it holds a control character';
    if ((c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069) || c === 0x200e || c === 0x200f) return 'it holds a bidirectional control character';
    if (c >= 0xd800 && c <= 0xdbff) {
      const low = name.charCodeAt(i + 1);
      if (!(low >= 0xdc00 && low <= 0xdfff)) return 'it is not valid text';
      i++;
    } else if (c >= 0xdc00 && c <= 0xdfff) return 'it is not valid text';
  }
  return undefined;
}

/**
 * Paths built from data (file names, supplier identifiers) are reduced to a safe single
 * segment: no separators, no leading dot, no control characters, bounded length. Nothing
 * built from a flow can point outside the folder it is joined to.
 */
export function safeName(name: string, maxLength = 120): string {
  const cleaned = name
    .normalize('NFC')
    .replace(/[^\p{L}\p{N}._ -]/gu, '_')
    .replace(/^[.\s]+/, '_')
    .slice(0, maxLength);
  return cleaned === '' || cleaned === '.' || cleaned === '..' ? '_' : cleaned;
}

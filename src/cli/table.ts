/** Aligned columns for people; colours only when stdout is a terminal. */
const useColour = () => process.stdout.isTTY && !process.env.NO_COLOR;

export function printTable(header: string[], rows: (string | number | null | undefined)[][]): void {
  const cells = rows.map((r) => r.map((c) => (c === null || c === undefined ? '' : String(c))));
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((r) => r[i]!.length)));
  const line = (r: string[]) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  console.log(useColour() ? `\x1b[1m${line(header)}\x1b[0m` : line(header));
  for (const r of cells) console.log(line(r));
  if (!rows.length) console.log('(none)');
}

/** Flows and invoices per hour as an inline SVG bar chart (no script, no library). */
import { html, type Html } from './html.js';

export function hourlyChart(hours: { hour: string; flows: number; invoices: number }[]): Html {
  const W = 1240, H = 210, left = 36, bottom = 24, top = 10;
  const max = Math.max(1, ...hours.map((h) => Math.max(h.flows, h.invoices)));
  const step = niceStep(max);
  const ceiling = Math.ceil(max / step) * step;
  const slot = (W - left - 8) / Math.max(1, hours.length);
  const bar = Math.max(2, slot * 0.36);
  const y = (v: number) => top + (H - top - bottom) * (1 - v / ceiling);
  const ticks = Array.from({ length: Math.round(ceiling / step) + 1 }, (_, i) => i * step);
  return html`<svg viewBox="0 0 ${W} ${H}" role="img" aria-label="Flows and invoices per hour">
    ${ticks.map((t) => html`<line x1="${left}" x2="${W - 8}" y1="${y(t)}" y2="${y(t)}" stroke="#e6eaef"/><text x="${left - 6}" y="${y(t) + 4}" font-size="11" text-anchor="end" fill="#5d6b7a">${t}</text>`)}
    ${hours.map((h, i) => {
      const x = left + i * slot + slot / 2;
      const label = i % 3 === 0 || i === hours.length - 1 ? html`<text x="${x}" y="${H - 8}" font-size="11" text-anchor="middle" fill="#5d6b7a">${h.hour.slice(11, 13)}h</text>` : html``;
      return html`<g><title>${h.hour.replace('T', ' ')}:00 UTC — ${h.flows} flow(s), ${h.invoices} invoice(s)</title>
        <rect x="${x - bar - 1}" y="${y(h.flows)}" width="${bar}" height="${y(0) - y(h.flows)}" fill="#1f5fae" rx="1.5"/>
        <rect x="${x + 1}" y="${y(h.invoices)}" width="${bar}" height="${y(0) - y(h.invoices)}" fill="#7fb2e8" rx="1.5"/></g>${label}`;
    })}
    <line x1="${left}" x2="${W - 8}" y1="${y(0)}" y2="${y(0)}" stroke="#9aa7b4"/>
  </svg>`;
}

function niceStep(max: number): number {
  const raw = max / 4;
  const pow = 10 ** Math.floor(Math.log10(raw || 1));
  return ([1, 2, 5, 10].map((m) => m * pow).find((s) => s >= raw) ?? pow * 10) || 1;
}

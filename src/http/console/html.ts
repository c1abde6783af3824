/** Server-rendered HTML: an escaping template tag, the page frame and the console's own CSS. */

/** Trusted HTML (built by `html`), as opposed to text, which is escaped. */
export class Html {
  constructor(readonly text: string) {}
  toString() {
    return this.text;
  }
}

const ESC: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
export const escape = (s: string) => s.replace(/[&<>"']/g, (c) => ESC[c]!);

type Value = Html | string | number | boolean | null | undefined | Value[];
const render = (v: Value): string => (v instanceof Html ? v.text : Array.isArray(v) ? v.map(render).join('') : v === null || v === undefined || v === false ? '' : escape(String(v)));

export function html(strings: TemplateStringsArray, ...values: Value[]): Html {
  return new Html(strings.reduce((out, s, i) => out + s + (i < values.length ? render(values[i]!) : ''), ''));
}

export const raw = (s: string) => new Html(s);

const STYLE = `
:root{--ink:#1d2733;--muted:#5d6b7a;--line:#dfe4ea;--bg:#f5f7fa;--card:#fff;--accent:#1f5fae;--ok:#1e7b45;--warn:#a86400;--bad:#b3261e}
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;color:var(--ink);background:var(--bg)}
header{background:#17324f;color:#fff;display:flex;align-items:center;gap:24px;padding:0 20px;height:48px}
header .brand{font-weight:700;letter-spacing:.02em}
header nav a{color:#d7e3f1;text-decoration:none;margin-right:16px;padding:14px 0;border-bottom:3px solid transparent}
header nav a.on,header nav a:hover{color:#fff;border-bottom-color:#6fa8ff}
header form{margin-left:auto}
header button{background:transparent;color:#d7e3f1;border:1px solid #4d6a8a;border-radius:4px;padding:3px 10px;cursor:pointer}
main{max-width:1320px;margin:0 auto;padding:16px 20px 32px}
h1{font-size:20px;margin:4px 0 14px}
h2{font-size:15px;margin:0 0 10px;color:var(--muted);font-weight:600;text-transform:uppercase;letter-spacing:.04em}
.grid{display:grid;gap:14px}
.cols-2{grid-template-columns:repeat(2,minmax(0,1fr))}
.cols-3{grid-template-columns:repeat(3,minmax(0,1fr))}
.cols-6{grid-template-columns:repeat(6,minmax(0,1fr))}
.card{background:var(--card);border:1px solid var(--line);border-radius:6px;padding:14px 16px;min-width:0}
.figure{font-size:24px;font-weight:650}
.figure small{font-size:12px;color:var(--muted);font-weight:400;display:block}
table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:6px 8px;border-bottom:1px solid var(--line);vertical-align:top}
th{font-size:12px;color:var(--muted);font-weight:600;white-space:nowrap}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
tr:last-child td{border-bottom:0}
code,.mono{font-family:ui-monospace,"DejaVu Sans Mono",Menlo,monospace;font-size:12.5px}
h1 .mono{font-size:inherit}
ul.errs{margin:0;padding:0;list-style:none}ul.errs li{margin-bottom:4px;overflow-wrap:anywhere;min-width:260px}
.nowrap{white-space:nowrap}
a{color:var(--accent)}
.badge{display:inline-block;padding:1px 7px;border-radius:10px;font-size:12px;font-weight:600;background:#e8edf3;color:var(--ink);white-space:nowrap}
.badge.ok{background:#e2f3e8;color:var(--ok)}.badge.warn{background:#fdf0dc;color:var(--warn)}.badge.bad{background:#fbe4e2;color:var(--bad)}
.muted{color:var(--muted)}
.err{color:var(--bad)}
form.inline{display:flex;gap:8px;flex-wrap:wrap;align-items:end;margin-bottom:12px}
label{display:flex;flex-direction:column;font-size:12px;color:var(--muted);gap:3px}
input,select{font:inherit;padding:5px 8px;border:1px solid #c5ced8;border-radius:4px;background:#fff;min-width:0}
button.primary,a.button{background:var(--accent);color:#fff;border:0;border-radius:4px;padding:6px 14px;font:inherit;cursor:pointer;text-decoration:none;display:inline-block}
button.small{padding:3px 10px;font-size:12.5px}
.downloads a{margin-right:12px;white-space:nowrap}
dl.kv{display:grid;grid-template-columns:max-content 1fr;gap:4px 16px;margin:0}
dl.kv dt{color:var(--muted)}dl.kv dd{margin:0;overflow-wrap:anywhere}
.chart svg{width:100%;height:auto;display:block}
.legend span{display:inline-block;margin-right:14px;font-size:12px;color:var(--muted)}
.legend i{display:inline-block;width:10px;height:10px;border-radius:2px;margin-right:5px;vertical-align:-1px}
.notice{padding:10px 14px;border-radius:6px;margin-bottom:12px;background:#e8f1fd;border:1px solid #c3d8f5}
.notice.bad{background:#fbe4e2;border-color:#f0c0bb}
.login{max-width:420px;margin:80px auto}
.login .card{padding:24px}
.login input{width:100%}
.scroll{overflow-x:auto}
`;

export interface PageOptions {
  title: string;
  nav?: string;
  /** Sets the console's CSRF token on the logout form. */
  csrf?: string;
  operator?: string;
}

const NAV: [string, string, string][] = [
  ['dashboard', '/console', 'Dashboard'],
  ['queue', '/console/queue', 'To process · À traiter'],
  ['flows', '/console/flows', 'Flows · Flux'],
  ['invoices', '/console/invoices', 'Invoices · Factures'],
  ['directory', '/console/directory', 'Directory · Annuaire'],
  ['notifications', '/console/notifications', 'Notifications'],
  ['docs', '/docs', 'API'],
];

export function page(opts: PageOptions, body: Html): string {
  const nav = opts.csrf
    ? html`<nav>${NAV.map(([key, href, label]) => html`<a href="${href}" class="${opts.nav === key ? 'on' : ''}">${label}</a>`)}</nav>
      <form method="post" action="/console/logout"><input type="hidden" name="csrf" value="${opts.csrf}"><button title="${opts.operator ?? ''}">Log out</button></form>`
    : html``;
  return html`<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${opts.title} · factflow</title><style>${raw(STYLE)}</style></head>
<body><header><span class="brand">factflow</span>${nav}</header><main>${body}</main></body></html>`.text;
}

/** A state or status as a coloured badge. */
export function stateBadge(state: string | null | undefined): Html {
  const s = state ?? 'PENDING';
  const cls = /^(IN_INTEGRE|ACCEPTED|DONE)$/.test(s) ? 'ok' : /PARTIEL|CLAIMED|DECIDED|CLAIMING|PENDING/.test(s) ? 'warn' : /REJET|IRRECEVABLE|REJECTED/.test(s) ? 'bad' : '';
  return html`<span class="badge ${cls}">${s}</span>`;
}

export const when = (iso: string | null | undefined) => (iso ? html`<span class="mono" title="${iso}">${iso.replace('T', ' ').slice(0, 19)}</span>` : html`<span class="muted">—</span>`);

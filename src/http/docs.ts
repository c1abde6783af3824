/** The OpenAPI document generated from the routes' schemas: JSON at /docs/json, a readable page at /docs. */
import type { FastifyInstance } from 'fastify';
import { csrfTokenOf as csrfOf } from './auth.js';
import { html, page } from './console/html.js';

interface Operation {
  summary?: string;
  tags?: string[];
  parameters?: { name: string; in: string; required?: boolean; description?: string }[];
  responses?: Record<string, unknown>;
}

export function registerDocs(app: FastifyInstance): void {
  app.get('/docs/json', { schema: { tags: ['Docs'], summary: 'The OpenAPI 3 document of every route', response: { 200: { type: 'object', additionalProperties: true } } } }, async () => app.swagger());
  app.get('/docs', { schema: { tags: ['Docs'], summary: 'The routes as a readable page (the JSON document: /docs/json, or Accept: application/json)' } }, async (req, reply) => {
    const doc = app.swagger() as unknown as { info: { title: string; version: string; description?: string }; paths: Record<string, Record<string, Operation>> };
    if (!/text\/html/.test(String(req.headers.accept ?? ''))) return doc;
    const rows = Object.entries(doc.paths).flatMap(([path, ops]) => Object.entries(ops).map(([method, op]) => ({ path, method: method.toUpperCase(), op })));
    const body = html`<h1>${doc.info.title} <span class="muted">${doc.info.version}</span></h1>
      <p>${doc.info.description ?? ''} The machine-readable document: <a href="/docs/json">/docs/json</a>.
      Every route but <code>/v1/healthcheck</code> needs <code>Authorization: Bearer &lt;token&gt;</code>.</p>
      <div class="card scroll"><table><thead><tr><th>Method</th><th>Path</th><th>What</th><th>Parameters</th><th>Answers</th></tr></thead><tbody>
      ${rows.map(({ path, method, op }) => html`<tr><td><span class="badge">${method}</span></td><td class="mono">${path}</td><td>${op.summary ?? ''}</td>
        <td class="mono">${(op.parameters ?? []).filter((p) => p.in !== 'header').map((p) => html`<span class="nowrap">${p.name}${p.required ? '*' : ''} <span class="muted">(${p.in})</span></span><br>`)}</td>
        <td class="mono">${Object.keys(op.responses ?? {}).join(' ')}</td></tr>`)}
      </tbody></table></div>`;
    return reply.type('text/html; charset=utf-8').send(page({ title: 'API', nav: 'docs', ...(req.token && req.principal?.kind === 'operator' ? { csrf: csrfOf(req.token) } : {}) }, body));
  });
}

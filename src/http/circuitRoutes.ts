/**
 * Validators act over HTTP: approve or refuse an invoice held in a validation circuit, through
 * the same operators' request (and so the same judge, lifecycle table and status files) as
 * `factflow invoice validate|refuse`. An operator may act for the validator the invoice awaits; a
 * partner's token only for a validator it is registered for (`partners add --validator`).
 */
import type { FastifyInstance } from 'fastify';
import { decideValidation } from '../app/requests.js';
import type { Principal } from '../app/tokens.js';
import type { Hub } from '../hub.js';
import { validatorAt } from '../lifecycle/circuits.js';
import { SECURITY } from './api.js';
import { ApiError, errorResponses } from './errors.js';

export function registerCircuits(app: FastifyInstance, hub: Hub): void {
  app.post('/v1/invoices/:invoiceId/validation', {
    schema: {
      tags: ['Hub'], summary: 'A validator approves or refuses an invoice held in a validation circuit (statuses 13–22)', security: SECURITY,
      params: { type: 'object', required: ['invoiceId'], properties: { invoiceId: { type: 'integer', description: 'hub id (IdCPRO)' } } },
      body: {
        type: 'object', required: ['decision'], additionalProperties: false,
        properties: {
          decision: { type: 'string', enum: ['approve', 'refuse', 'wrong-validator'] },
          reason: { type: 'string', maxLength: 255, description: 'the motif the supplier receives (required to refuse)' },
          comment: { type: 'string', maxLength: 1000 },
        },
      },
      response: { 200: { type: 'object', additionalProperties: true }, ...errorResponses(400, 401, 403, 404, 409) },
    },
  }, async (req) => {
    const { invoiceId } = req.params as { invoiceId: number };
    const body = req.body as { decision: 'approve' | 'refuse' | 'wrong-validator'; reason?: string; comment?: string };
    const invoice = await hub.ledger.invoices.get(invoiceId);
    const hold = invoice && (await hub.ledger.circuits.ofInvoices([invoice.id])).get(invoice.id);
    if (!invoice || !hold) throw new ApiError('MISSING_RESOURCE', `no invoice ${invoiceId} in a validation circuit`);
    const validator = validatorAt(hold, hold.level);
    const p = req.principal as Principal;
    if (p.kind === 'partner' && !(validator && p.partner.validators?.includes(validator))) {
      throw new ApiError('FORBIDDEN_ACCESS', `partner ${p.partner.code} is not registered for the validator invoice ${invoiceId} awaits (factflow partners add ${p.partner.code} --validator <id>)`);
    }
    if (body.decision !== 'approve' && !body.reason) throw new ApiError('INVALID_REQUEST', 'a refusal needs a reason: the supplier receives it');
    const outcome = await decideValidation(hub, invoice, {
      approve: body.decision === 'approve', wrongValidator: body.decision === 'wrong-validator', reason: body.reason, comment: body.comment,
    });
    const after = (await hub.ledger.invoices.get(invoice.id))!;
    return { invoiceId: invoice.id, status: after.status, flowId: outcome.flow?.id, accepted: outcome.errors.length === 0, errors: outcome.errors };
  });
}

/**
 * Routing checks (domain §2) as a pure function of the invoice and the directory:
 * the recipient must be known and active, and the service code and engagement number
 * must be present, known and active as the structure and the service require.
 */
import { flowError, type FlowError } from '../errors/catalog.js';
import type { Invoice } from '../model/invoice.js';
import { isValidSiret } from '../validate/identifiers.js';
import type { Directory } from './directory.js';
import { WORKS_CADRES } from '../lifecycle/circuits.js';

/** A framework code (an invalid one is the deposit rules' to report). */
const CADRE = /^A\d{1,2}$/;

export function checkRouting(inv: Invoice, directory: Directory): FlowError[] {
  const { siret, serviceCode } = inv.recipient;
  if (!siret) return []; // reported by the deposit rules (RULE_RECIPIENT_ID_MISSING)
  const whereId = inv.where.recipientId;
  if (!isValidSiret(siret)) return [flowError('ROUTE_RECIPIENT_ID_INVALID', { siret }, whereId)];
  const structure = directory.structure(siret);
  if (!structure) return [flowError('ROUTE_RECIPIENT_UNKNOWN', { siret }, whereId)];
  if (!structure.active) return [flowError('ROUTE_RECIPIENT_INACTIVE', { siret, name: structure.name }, whereId)];
  const works = WORKS_CADRES.has(inv.cadre);
  if (works && structure.moa === false) return [flowError('ROUTE_RECIPIENT_NOT_MOA', { cadre: inv.cadre, siret, name: structure.name }, whereId)];
  if (!works && structure.moaOnly && CADRE.test(inv.cadre)) return [flowError('ROUTE_RECIPIENT_MOA_ONLY', { cadre: inv.cadre, siret, name: structure.name }, whereId)];

  const errors: FlowError[] = [];
  const engagement = inv.engagementNumber;
  if (structure.requiresServiceAndEngagement && (!serviceCode || !engagement)) {
    const missing = [!serviceCode && 'service code', !engagement && 'engagement number'].filter(Boolean).join(' and ');
    errors.push(flowError('ROUTE_SERVICE_AND_ENGAGEMENT_REQUIRED', { siret, missing }, whereId));
  } else if (structure.requiresService && !serviceCode) {
    errors.push(flowError('ROUTE_SERVICE_REQUIRED', { siret }, inv.where.serviceCode ?? whereId));
  }
  let serviceNeedsEngagement = false;
  if (serviceCode) {
    const service = directory.service(siret, serviceCode);
    if (!service) errors.push(flowError('ROUTE_SERVICE_UNKNOWN', { siret, service: serviceCode }, inv.where.serviceCode));
    else if (!service.active) errors.push(flowError('ROUTE_SERVICE_INACTIVE', { siret, service: serviceCode }, inv.where.serviceCode));
    else serviceNeedsEngagement = service.requiresEngagement;
  }
  if (!engagement && !structure.requiresServiceAndEngagement && (structure.requiresEngagement || serviceNeedsEngagement)) {
    const requiredBy = structure.requiresEngagement ? `Recipient ${siret}` : `Service "${serviceCode}" of recipient ${siret}`;
    errors.push(flowError('ROUTE_ENGAGEMENT_REQUIRED', { requiredBy }, inv.where.engagementNumber ?? whereId));
  }
  return errors;
}

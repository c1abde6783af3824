/**
 * The one catalog of coded errors. Every rejection factflow can report is declared here,
 * with the stage that raises it and its scope: a `flow` error refuses the whole flow
 * (status 93), an `invoice` error refuses one invoice and lets the others through. System
 * faults (disk full, permission denied) are not data errors: they are logged and shown on the
 * flow, which stays in the spool and is retried.
 * Code elsewhere refers to codes only; `docs/ERRORS.md` is generated from this table.
 */

export type Stage = 'claim' | 'detect' | 'parse' | 'schema' | 'archive' | 'rules' | 'routing' | 'lifecycle' | 'system';
/** flow: refuses the whole flow; invoice: one invoice or update; system: a fault, the flow is retried; warning: refuses nothing. */
export type Scope = 'flow' | 'invoice' | 'system' | 'warning';

interface ErrorSpec {
  stage: Stage;
  scope: Scope;
  /** Message template; `{name}` placeholders are filled from the error's params. */
  message: string;
  /** The official rule this code is (e.g. a BR-FR-CPRO id), only where a published source numbers it. */
  rule?: string;
}

// `const` keeps each message as its literal type, so that its {placeholders} type the params.
const define = <const T extends Record<string, ErrorSpec>>(specs: T) => specs;

export const ERRORS = define({
  // Whole-flow pre-checks: the flow is "irrecevable" (QP_IRRECEVABLE, status 93).
  FLOW_EMPTY: { stage: 'claim', scope: 'flow', message: 'The file is empty.' },
  FLOW_TOO_LARGE: { stage: 'claim', scope: 'flow', message: 'The file is {size} bytes, over the {limit}-byte limit for one flow.' },
  FLOW_NOT_REGULAR_FILE: { stage: 'claim', scope: 'flow', message: 'The inbox entry is a {what}, not a regular file; it was not followed or read.' },
  FLOW_PARTNER_UNKNOWN: { stage: 'claim', scope: 'flow', message: 'The flow came in through inbox/{partner}/, but {partner} is not a registered partner (factflow partners add).' },
  FLOW_DUPLICATE: { stage: 'claim', scope: 'flow', message: 'The same file (SHA-256 {sha256}) was already received as flow {earlierFlowId}; nothing was emitted again.' },
  FLOW_UNKNOWN_FORMAT: { stage: 'detect', scope: 'flow', message: 'Unrecognised flow: {found}. Expected a CPPFactureMixte, UBL Invoice/CreditNote, CII CrossIndustryInvoice, CPPStatut, Factur-X PDF, zip or tar.gz.' },
  XML_DOCTYPE_FORBIDDEN: { stage: 'parse', scope: 'flow', message: 'The document declares a DOCTYPE; DTDs and entity declarations are refused.' },
  XML_NOT_WELL_FORMED: { stage: 'parse', scope: 'flow', message: 'The XML is not well-formed: {detail}' },
  XML_ENCODING: { stage: 'parse', scope: 'flow', message: 'The document is not valid text in {encoding} encoding: {detail}' },
  SCHEMA_INVALID: { stage: 'schema', scope: 'flow', message: 'Not valid against the {schema} schema: {detail}' },
  FLOW_COUNTER_MISMATCH: { stage: 'schema', scope: 'flow', message: 'CPPFactures/@Compteur says {declared} invoices but the flow holds {actual}.' },
  FLOW_DUPLICATE_NUMORDRE: { stage: 'schema', scope: 'flow', message: 'NumOrdre {numOrdre} is used by more than one invoice of the flow.' },

  // Factur-X / ZUGFeRD PDFs (formats/facturx.ts). Structural PDF/A-3 findings are warnings, not codes.
  PDF_UNREADABLE: { stage: 'detect', scope: 'flow', message: 'The PDF cannot be read: {detail}' },
  PDF_ENCRYPTED: { stage: 'detect', scope: 'flow', message: 'The PDF is encrypted; an e-invoice PDF (PDF/A-3) may not be.' },
  PDF_TOO_COMPLEX: { stage: 'detect', scope: 'flow', message: 'The PDF exceeds what the hub reads: {detail}.' },
  FACTURX_NO_INVOICE: { stage: 'detect', scope: 'flow', message: 'The PDF holds no embedded invoice (factur-x.xml, zugferd-invoice.xml, ZUGFeRD-invoice.xml or xrechnung.xml); embedded files: {files}.' },
  FACTURX_AMBIGUOUS: { stage: 'detect', scope: 'flow', message: 'The PDF embeds several invoice files ({files}) and its XMP fx:DocumentFileName ({designated}) names none of them.' },
  FACTURX_PROFILE_UNKNOWN: { stage: 'schema', scope: 'flow', message: 'The embedded invoice\'s guideline id (BT-24) "{id}" is not a Factur-X profile.' },
  FACTURX_PROFILE_MISMATCH: { stage: 'schema', scope: 'flow', message: 'The PDF\'s XMP declares profile {xmp} (fx:ConformanceLevel "{level}") but the invoice\'s guideline id (BT-24) "{id}" is profile {profile}.' },
  FACTURX_STRUCTURAL: { stage: 'detect', scope: 'warning', message: 'PDF/A-3 checked structurally only ({check}): {detail}.' },
  FACTURX_PROFILE_NOT_ACCEPTED: { stage: 'rules', scope: 'invoice', message: 'Factur-X profile {profile} is not accepted: {why}.' },

  // Archives of structured invoices (E1 batches).
  ARCHIVE_CORRUPT: { stage: 'archive', scope: 'flow', message: 'The archive cannot be read: {detail}' },
  ARCHIVE_TOO_MANY_ENTRIES: { stage: 'archive', scope: 'flow', message: 'The archive holds more than {limit} entries.' },
  ARCHIVE_TOO_LARGE: { stage: 'archive', scope: 'flow', message: 'The archive expands to more than {limit} bytes.' },
  ARCHIVE_OVERLAPPING_ENTRIES: { stage: 'archive', scope: 'flow', message: 'Entry "{entry}" shares bytes with {other}; archives whose entries overlap are refused.' },
  ARCHIVE_EMPTY: { stage: 'archive', scope: 'flow', message: 'The archive holds no invoice document.' },
  ARCHIVE_UNSAFE_PATH: { stage: 'archive', scope: 'invoice', message: 'Entry "{entry}" has an unsafe path (absolute or with ..); it was not extracted.' },
  ARCHIVE_LINK: { stage: 'archive', scope: 'invoice', message: 'Entry "{entry}" is a link; links are not extracted.' },
  ARCHIVE_NESTED: { stage: 'archive', scope: 'invoice', message: 'Entry "{entry}" is itself an archive; nested archives are refused.' },
  ARCHIVE_ENTRY_TOO_LARGE: { stage: 'archive', scope: 'invoice', message: 'Entry "{entry}" expands to more than {limit} bytes.' },
  ARCHIVE_ENTRY_INVALID: { stage: 'archive', scope: 'invoice', message: 'Entry "{entry}": {detail}' },

  // Deposit rules, per invoice (domain §6).
  RULE_SUPPLIER_ID_MISSING: { stage: 'rules', scope: 'invoice', message: 'The supplier identifier is missing ({element}).' },
  RULE_SUPPLIER_SIRET_INVALID: { stage: 'rules', scope: 'invoice', message: 'Supplier SIRET "{value}" is not 14 digits with a valid check digit.' },
  RULE_RECIPIENT_ID_MISSING: { stage: 'rules', scope: 'invoice', message: 'The recipient SIRET is missing: fill {element}.' },
  RULE_INVOICE_NUMBER_MISSING: { stage: 'rules', scope: 'invoice', message: 'The invoice number is missing.' },
  RULE_INVOICE_NUMBER_TOO_LONG: { stage: 'rules', scope: 'invoice', message: 'Invoice number "{value}" is {length} characters; the limit is 20.' },
  RULE_ISSUE_DATE_INVALID: { stage: 'rules', scope: 'invoice', message: 'Issue date "{value}" is not a valid date (YYYY-MM-DD).' },
  RULE_ISSUE_DATE_FUTURE: { stage: 'rules', scope: 'invoice', message: 'Issue date {value} is after the deposit date {depositDate}.' },
  RULE_CURRENCY_INVALID: { stage: 'rules', scope: 'invoice', message: 'Currency "{value}" is not an ISO 4217 code.' },
  RULE_TYPE_INVALID: { stage: 'rules', scope: 'invoice', message: 'Invoice type "{value}" is neither 380 (invoice) nor 381 (credit note).' },
  RULE_CADRE_INVALID: { stage: 'rules', scope: 'invoice', message: 'Billing framework "{value}" is not one of A1-A25 (there is no A11).' },
  RULE_CADRE_VALIDATOR_MISSING: { stage: 'rules', scope: 'invoice', message: 'Billing framework {value} requires the main contractor (Valideur) to be identified.' },
  RULE_CADRE_MOE_MISSING: { stage: 'rules', scope: 'invoice', message: 'Billing framework {value} is a works statement approved by the project manager: the MOE (MaitreOeuvre) must be identified.' },
  RULE_PAYMENT_MODE_INVALID: { stage: 'rules', scope: 'invoice', message: 'Payment means code "{value}" has no pivot equivalent (10, 20, 30, 31, 42, 48, 49, 97).' },
  RULE_AMOUNT_INVALID: { stage: 'rules', scope: 'invoice', message: '{element} "{value}" is not a decimal amount.' },
  RULE_AMOUNT_TTC_MISMATCH: { stage: 'rules', scope: 'invoice', message: 'Total with VAT {ttc} differs from total without VAT {ht} plus VAT {vat} (expected {expected}).' },
  RULE_AMOUNT_VAT_MISMATCH: { stage: 'rules', scope: 'invoice', message: 'VAT at {rate} %: {amount} differs from base {base} x rate (expected {expected}).' },
  RULE_AMOUNT_LINES_MISMATCH: { stage: 'rules', scope: 'invoice', message: 'Lines add up to {linesTotal}, not to the total of the lines {ht}.' },
  RULE_AMOUNT_OUT_OF_RANGE: { stage: 'rules', scope: 'invoice', message: '{element} "{value}" is beyond the amounts the hub relays exactly (at most {integerDigits} digits before the decimal point and {fractionDigits} after).' },
  RULE_AMOUNT_NEGATIVE: { stage: 'rules', scope: 'invoice', message: '{element} is negative ({value}); issue a credit note (381) instead.' },
  RULE_ATTACHMENT_INVOICE_MISSING: { stage: 'rules', scope: 'invoice', message: 'No attachment of type 01 (the invoice itself) is present.' },
  RULE_ATTACHMENT_INVOICE_MULTIPLE: { stage: 'rules', scope: 'invoice', message: 'More than one attachment has type 01 (the invoice itself).' },
  RULE_ATTACHMENT_EMPTY: { stage: 'rules', scope: 'invoice', message: 'Attachment "{name}" is empty.' },
  // The official rules (EN 16931 CEN, FNFE BR-FR, Factur-X; src/rules/), the failed rule's id in `rule`.
  RULE_OFFICIAL: { stage: 'rules', scope: 'invoice', message: '{rule}: {detail}' },
  RULE_OFFICIAL_WARNING: { stage: 'rules', scope: 'warning', message: '{rule}: {detail}' },
  RULE_OFFICIAL_ENGINE: { stage: 'rules', scope: 'invoice', message: 'The official {set} rules cannot be applied to this invoice: at {rule}, {detail} (the official engine stops on it too, so it gives no verdict).' },
  RULE_ATTACHMENT_BASE64: { stage: 'rules', scope: 'invoice', message: 'Attachment "{name}" is not valid base64.' },
  RULE_ATTACHMENT_TOO_LARGE: { stage: 'rules', scope: 'invoice', message: 'Attachment "{name}" is {size} bytes; each attachment must be under {limit} bytes.' },
  RULE_ATTACHMENTS_TOTAL_TOO_LARGE: { stage: 'rules', scope: 'invoice', message: 'Invoice and attachments total {size} bytes, over the {limit}-byte limit.' },
  RULE_ATTACHMENT_NAME_TOO_LONG: { stage: 'rules', scope: 'invoice', message: 'Attachment name "{name}" is {length} characters; the limit is 50.' },
  RULE_ATTACHMENT_NAME_UNSAFE: { stage: 'rules', scope: 'invoice', message: 'Attachment name "{name}" is not a plain file name ({reason}); buyers would receive it as a path.' },
  RULE_ATTACHMENT_EXTENSION: { stage: 'rules', scope: 'invoice', message: 'Attachment "{name}" has an extension outside the allowed list ({allowed}).' },
  RULE_ATTACHMENT_ZIP_INVALID: { stage: 'rules', scope: 'invoice', message: 'Attachment "{name}" is a zip archive that does not hold exactly one file with a plain name.' },
  RULE_SERVICE_CODE_TOO_LONG: { stage: 'rules', scope: 'invoice', message: 'Service code "{value}" is {length} characters; Chorus Pro allows at most 100.' },
  RULE_ENGAGEMENT_TOO_LONG: { stage: 'rules', scope: 'invoice', message: 'Engagement number (EJ) "{value}" is {length} characters; Chorus Pro allows at most 50.' },
  RULE_CONTRACT_NUMBER_TOO_LONG: { stage: 'rules', scope: 'invoice', message: 'Contract number "{value}" is {length} characters; Chorus Pro allows at most 50.' },
  RULE_DOUBLE_INVOICING: { stage: 'rules', scope: 'invoice', message: 'Double invoicing: supplier {supplier} already deposited invoice {number} in {year} (flow {earlierFlowId}).' },
  RULE_DUPLICATE_IN_FLOW: { stage: 'rules', scope: 'invoice', message: 'Invoice {number} of supplier {supplier} appears more than once in this flow.' },

  // Partners' permissions.
  PARTNER_SUPPLIER_NOT_ALLOWED: { stage: 'routing', scope: 'invoice', message: 'Partner {partner} may not deposit invoices for supplier {supplier}.' },
  PARTNER_RECIPIENT_NOT_ALLOWED: { stage: 'lifecycle', scope: 'invoice', message: 'Partner {partner} may not send statuses for recipient {recipient}.' },

  // Routing against the directory (domain §2).
  ROUTE_RECIPIENT_ID_INVALID: { stage: 'routing', scope: 'invoice', message: 'Recipient SIRET "{siret}" is not 14 digits with a valid check digit.' },
  ROUTE_RECIPIENT_UNKNOWN: { stage: 'routing', scope: 'invoice', message: 'Recipient SIRET {siret} is not in the directory of public structures.' },
  ROUTE_RECIPIENT_INACTIVE: { stage: 'routing', scope: 'invoice', message: 'Recipient {siret} ({name}) is not active in the directory.' },
  ROUTE_SERVICE_REQUIRED: { stage: 'routing', scope: 'invoice', message: 'Recipient {siret} requires a service code; fill the service code.' },
  ROUTE_SERVICE_UNKNOWN: { stage: 'routing', scope: 'invoice', message: 'Service code "{service}" does not exist under recipient {siret}.' },
  ROUTE_SERVICE_INACTIVE: { stage: 'routing', scope: 'invoice', message: 'Service "{service}" of recipient {siret} is not active.' },
  ROUTE_ENGAGEMENT_REQUIRED: { stage: 'routing', scope: 'invoice', message: '{requiredBy} requires an engagement number (EJ); fill the engagement number.' },
  ROUTE_RECIPIENT_NOT_MOA: { stage: 'routing', scope: 'invoice', message: 'Billing framework {cadre} is a works contract statement, but recipient {siret} ({name}) is not a contracting authority (EstMOA) in the directory.' },
  ROUTE_RECIPIENT_MOA_ONLY: { stage: 'routing', scope: 'invoice', message: 'Recipient {siret} ({name}) receives works contract statements only (EstMOAUniquement); billing framework {cadre} is not one.' },
  ROUTE_SERVICE_AND_ENGAGEMENT_REQUIRED: { stage: 'routing', scope: 'invoice', message: 'Recipient {siret} requires both a service code and an engagement number; missing: {missing}.' },

  // Lifecycle (statuses sent in by recipients).
  LIFE_INVOICE_UNKNOWN: { stage: 'lifecycle', scope: 'invoice', message: 'No delivered invoice {number} from supplier {supplier}.' },
  LIFE_NOT_RECIPIENT: { stage: 'lifecycle', scope: 'invoice', message: 'Invoice {number} is addressed to {recipient}, not to {sender}; only its recipient may update it.' },
  LIFE_STATUS_UNKNOWN: { stage: 'lifecycle', scope: 'invoice', message: 'Status "{status}" is not an invoice status factflow knows (01-22).' },
  LIFE_TRANSITION_FORBIDDEN: { stage: 'lifecycle', scope: 'invoice', message: 'Invoice {number} is {from}; it cannot become {to}.' },
  LIFE_PRODUCER_FORBIDDEN: { stage: 'lifecycle', scope: 'invoice', message: 'Status {to} is set by the {allowed}, not by the {producer}.' },
  LIFE_MOTIF_REQUIRED: { stage: 'lifecycle', scope: 'invoice', message: 'Status {to} requires a motif (ComplementStatut or Commentaire).' },
  LIFE_MANDATE_REQUIRED: { stage: 'lifecycle', scope: 'invoice', message: 'Status 08 MANDATEE requires a mandate number (IdMandatDP).' },
  LIFE_ACK_STATUS_INVALID: { stage: 'lifecycle', scope: 'invoice', message: 'Flow status {status} cannot be sent by a recipient; only 92 (received by the final recipient) and 94 (reception error at the final recipient) can.' },
  LIFE_ACK_FLOW_UNKNOWN: { stage: 'lifecycle', scope: 'invoice', message: 'Flow {flowId} is not a pivot flow this hub delivered.' },
  STATUS_TEXT_TOO_LONG: { stage: 'lifecycle', scope: 'invoice', message: '{element} is {length} characters long; CPPStatutPivot_V1_19 allows at most {max} there. The status was refused, not cut: send it again shorter.' },
  VALIDATION_NOT_VALIDATOR: { stage: 'lifecycle', scope: 'invoice', message: 'Invoice {number} awaits validation level {level} by {validator}, not by {sender}; only its named validator may act (Producteur/@Id names who sends the status).' },
  VALIDATION_DEADLINE_NOT_REACHED: { stage: 'lifecycle', scope: 'invoice', message: 'Invoice {number}: validation level {level} is due at {due}; its deadline has not passed.' },
  PARTNER_VALIDATOR_NOT_ALLOWED: { stage: 'lifecycle', scope: 'invoice', message: 'Partner {partner} may not act as validator {validator}.' },
  LIFE_AMBIGUOUS_INVOICE: { stage: 'lifecycle', scope: 'invoice', message: 'Invoice {number} of supplier {supplier} matches several deliveries; give its date.' },

  // Operators' requests (factflow invoice status / complete, factflow process).
  INPUT_NOT_FOUND: { stage: 'claim', scope: 'flow', message: '{file} does not exist or is not readable: {detail}' },
  REQUEST_CHANNEL_FORBIDDEN: { stage: 'detect', scope: 'flow', message: 'An operator request can only be made with the factflow command, not dropped in the inbox.' },

  // System faults: nothing is refused; the flow stays in the spool and is retried with backoff.
  SYS_DISK_FULL: { stage: 'system', scope: 'system', message: 'No space left on the device while writing {path}: free some space; the flow is retried.' },
  SYS_PERMISSION_DENIED: { stage: 'system', scope: 'system', message: 'Permission denied on {path}: fix the folder permissions; the flow is retried.' },
  SYS_IO_ERROR: { stage: 'system', scope: 'system', message: 'Input/output error on {path} ({errno}): check the disk; the flow is retried.' },
  SYS_SOURCE_MISSING: { stage: 'system', scope: 'system', message: 'The source file of flow {flowId} is missing from the spool, archive/ and failed/.' },
  SYS_SOURCE_CHANGED: { stage: 'system', scope: 'system', message: 'The flow file {file} no longer reads as it did when the flow was read ({what}): the file changed since; the flow is retried and read again.' },
  SYS_LEDGER_UNAVAILABLE: { stage: 'system', scope: 'system', message: 'The ledger cannot be used: {detail}' },
  SYS_WORKER_FAILED: { stage: 'system', scope: 'system', message: 'The worker thread running the flow stopped: {detail}; the flow is resumed by another worker.' },
  SYS_UNEXPECTED: { stage: 'system', scope: 'system', message: 'Unexpected fault: {detail}' },
});

export type ErrorCode = keyof typeof ERRORS;

/** Where in the source an error was found. */
export interface Location {
  line?: number;
  column?: number;
  /** XPath-like path of the element, e.g. /CPPFactureMixte/CPPFactures/CPPFactureMixteUnitaire[2]/Debiteur/Identifiant */
  element?: string;
}

/** An error as a value: a stable code, the filled-in message and where it was found. */
export interface FlowError extends Location {
  code: ErrorCode;
  message: string;
  /** The official rule id (BR-CO-10, BR-FR-12_BT-49…) when an official or B2G rule found it. */
  rule?: string;
}

/** The names between braces in a message template, as a union of string literal types. */
type Placeholders<S extends string> = S extends `${string}{${infer P}}${infer Rest}` ? P | Placeholders<Rest> : never;
type Value = string | number | bigint;
/** The params a code's message needs: a missing or misspelt one is a compile error. */
export type ParamsOf<C extends ErrorCode> = { [K in Placeholders<(typeof ERRORS)[C]['message']>]: Value };
/** Where, and for a rule's finding its official id. */
type At = Location & { rule?: string };
type ErrorArgs<C extends ErrorCode> = [Placeholders<(typeof ERRORS)[C]['message']>] extends [never] ? [params?: Record<string, never>, at?: At] : [params: ParamsOf<C>, at?: At];

export function flowError<C extends ErrorCode>(code: C, ...[params, at = {}]: ErrorArgs<C>): FlowError {
  const values = (params ?? {}) as Record<string, Value>;
  const message = ERRORS[code].message.replace(/\{(\w+)\}/g, (_, key: string) => String(values[key]));
  const error: FlowError = { code, message };
  const rule = (ERRORS[code] as ErrorSpec).rule;
  if (rule !== undefined) error.rule = rule;
  if (at.line !== undefined) error.line = at.line;
  if (at.column !== undefined) error.column = at.column;
  if (at.element !== undefined) error.element = at.element;
  if (at.rule !== undefined) error.rule = at.rule;
  return error;
}

/** An error's official rule id: the one it carries, else its code's (errors kept before the code had one). */
export const ruleOf = (e: Pick<FlowError, 'code' | 'rule'>): string | undefined => e.rule ?? (ERRORS[e.code] as ErrorSpec | undefined)?.rule;

/** A system fault caught as `unknown`, as an Error (one from another realm, e.g. a native addon's under a VM, is kept as it is). */
export const asError = (e: unknown): Error => (e instanceof Error || (typeof e === 'object' && e !== null && typeof (e as Error).message === 'string') ? (e as Error) : new Error(String(e)));

/** A system fault carrying its catalog code: what a flow records when it stays in the spool. */
export class SystemFault extends Error {
  constructor(readonly fault: FlowError) {
    super(`${fault.code}: ${fault.message}`);
  }
}

const ERRNO_CODES: Record<string, ErrorCode> = { ENOSPC: 'SYS_DISK_FULL', EDQUOT: 'SYS_DISK_FULL', EACCES: 'SYS_PERMISSION_DENIED', EPERM: 'SYS_PERMISSION_DENIED', EROFS: 'SYS_PERMISSION_DENIED', EIO: 'SYS_IO_ERROR' };

/** Any caught fault as a coded system fault: errno faults by their errno, the rest as unexpected. */
export function systemFault(e: unknown): SystemFault {
  if (e instanceof SystemFault) return e;
  const err = asError(e) as NodeJS.ErrnoException;
  const code = err.code ? ERRNO_CODES[err.code] : undefined;
  const where = err.path ?? err.message;
  if (code === 'SYS_DISK_FULL' || code === 'SYS_PERMISSION_DENIED') return new SystemFault(flowError(code, { path: where }));
  if (code === 'SYS_IO_ERROR') return new SystemFault(flowError(code, { path: where, errno: err.code! }));
  if (err.code === 'SQLITE_CORRUPT' || err.code === 'SQLITE_NOTADB' || err.code === 'SQLITE_CANTOPEN' || err.code === 'SQLITE_READONLY') {
    return new SystemFault(flowError('SYS_LEDGER_UNAVAILABLE', { detail: err.message }));
  }
  return new SystemFault(flowError('SYS_UNEXPECTED', { detail: err.message }));
}

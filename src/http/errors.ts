/**
 * HTTP errors in the Flow Service standard's shape: `{ errorCode, errorMessage, details? }`.
 * These are protocol answers (no token, not allowed, no such flow), not a flow's coded errors:
 * a deposited flow's refusals come from the catalog, in its report and acknowledgement.
 */
export const API_ERRORS = {
  INVALID_REQUEST: 400,
  MISSING_TOKEN: 401,
  INVALID_TOKEN: 401,
  FORBIDDEN_ACCESS: 403,
  MISSING_RESOURCE: 404,
  TRACKING_ID_CONFLICT: 409,
  FILE_SIZE_EXCEEDED: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  CHECKSUM_MISMATCH: 422,
  INTERNAL_ERROR: 500,
  UNAVAILABLE: 503,
} as const;
export type ApiErrorCode = keyof typeof API_ERRORS;

export class ApiError extends Error {
  readonly statusCode: number;
  constructor(readonly errorCode: ApiErrorCode, message: string, readonly details?: string) {
    super(message);
    this.statusCode = API_ERRORS[errorCode];
  }
  get body() {
    return { errorCode: this.errorCode, errorMessage: this.message, ...(this.details ? { details: this.details } : {}) };
  }
}

/** The standard's Error object, for response schemas. */
export const ERROR_SCHEMA = {
  $id: 'Error',
  type: 'object',
  required: ['errorCode'],
  properties: {
    errorCode: { type: 'string', description: 'What went wrong, as a code: MISSING_TOKEN, FORBIDDEN_ACCESS, MISSING_RESOURCE, …' },
    errorMessage: { type: 'string', description: 'Why, in words' },
    details: { type: 'string' },
  },
} as const;

/** Error responses a route may give, by status. */
export const errorResponses = (...statuses: number[]) =>
  Object.fromEntries(statuses.map((s) => [s, { description: `Error ${s}`, $ref: 'Error#' }]));

// Airlock's one error model, in the style of jose's: every error a client, an operator or a test
// sees carries one stable code, and each code has one entry in the table (error-codes/, grouped by
// who meets it: proxy answers, operator CLI and control socket, config and state files). Every
// error class of the appliance extends CodedError, so a code outside the table does not compile;
// docs/errors.md is generated from the table (npm run docs:errors).
import { ERRORS, areaOf, type ErrorArea, type ErrorCode, type HttpErrorCode } from './error-codes/index.js';

export { ERRORS, areaOf, codeOr, errorEntries, isErrorCode, type ErrorArea, type ErrorCode, type ErrorSpec, type HttpErrorCode } from './error-codes/index.js';

/**
 * The base of every Airlock error (jose's JOSEError plays this part): a stable code from the
 * table. Subclasses narrow the code to their own few; the message is theirs.
 */
export class CodedError<C extends ErrorCode = ErrorCode> extends Error {
  readonly code: C;
  constructor(code: C, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
  }

  get area(): ErrorArea {
    return areaOf(this.code);
  }
}

/** An HTTP refusal: the table's status and message, plus a detail for this case. */
export class AirlockError extends CodedError<HttpErrorCode> {
  readonly status: number;
  /** Extra words for the client, appended to the table's message; never a secret. */
  readonly detail: string | undefined;

  /** Extra response headers (Retry-After); never a secret. */
  readonly headers: Readonly<Record<string, string>> | undefined;

  constructor(code: HttpErrorCode, detail?: string, options?: { cause?: unknown; headers?: Record<string, string> }) {
    super(code, detail ? `${ERRORS[code].message} (${detail})` : ERRORS[code].message, options);
    this.name = 'AirlockError';
    this.status = ERRORS[code].status;
    this.detail = detail;
    this.headers = options?.headers;
  }
}

export function isAirlockError(err: unknown): err is AirlockError {
  return err instanceof AirlockError;
}

interface ErrorResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** The one place an error becomes a client answer: Datadog's v1 error shape plus X-Airlock-Error. */
export function toErrorResponse(err: unknown): ErrorResponse {
  const e = isAirlockError(err) ? err : new AirlockError('INTERNAL');
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'x-airlock-error': e.code,
    'cache-control': 'no-store',
  };
  if (e.code === 'TOKEN_MISSING') headers['proxy-authenticate'] = 'Bearer realm="airlock"';
  if (e.headers) for (const [k, v] of Object.entries(e.headers)) headers[k.toLowerCase()] ??= v;
  const body = JSON.stringify({ errors: [`airlock: ${e.message}`] });
  headers['content-length'] = String(Buffer.byteLength(body));
  return { status: e.status, headers, body };
}

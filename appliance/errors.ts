// The one table of Airlock's errors, in the style of jose's: every error a client, an operator or
// a test sees carries one stable code, and each code has one entry here, grouped by who meets it
// (error-codes/: proxy answers, operator CLI and control socket, config and state files). Every
// error class of the appliance extends CodedError, so a code outside the table does not compile;
// docs/errors.md is generated from this table (npm run docs:errors).
import { CONFIG_ERRORS } from './error-codes/config.js';
import { OPERATOR_ERRORS } from './error-codes/operator.js';
import { PROXY_ERRORS } from './error-codes/proxy.js';
import type { ErrorArea, ErrorSpec } from './error-codes/spec.js';

export type { ErrorArea, ErrorSpec };

export const ERRORS = { ...PROXY_ERRORS, ...OPERATOR_ERRORS, ...CONFIG_ERRORS } as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof ERRORS;

/** The codes answered over HTTP (proxy, control socket, console): the ones an AirlockError carries. */
export type HttpErrorCode = { [K in ErrorCode]: (typeof ERRORS)[K]['status'] extends number ? K : never }[ErrorCode];

const AREAS: readonly (readonly [ErrorArea, Readonly<Record<string, ErrorSpec>>])[] = [
  ['proxy', PROXY_ERRORS],
  ['operator', OPERATOR_ERRORS],
  ['config', CONFIG_ERRORS],
];

export function isErrorCode(code: unknown): code is ErrorCode {
  return typeof code === 'string' && Object.hasOwn(ERRORS, code);
}

/** A code read from outside (an X-Airlock-Error header, a caught error): itself if it is in the table, else `fallback`. */
export function codeOr(code: unknown, fallback: ErrorCode): ErrorCode {
  return isErrorCode(code) ? code : fallback;
}

export function areaOf(code: ErrorCode): ErrorArea {
  for (const [area, table] of AREAS) if (Object.hasOwn(table, code)) return area;
  throw new Error(`unreachable: ${code} is in no area`);
}

/** Every table entry with its code and area, in table order (for the generated reference). */
export function errorEntries(): { readonly code: ErrorCode; readonly area: ErrorArea; readonly spec: ErrorSpec }[] {
  return AREAS.flatMap(([area, table]) => Object.entries(table).map(([code, spec]) => ({ code: code as ErrorCode, area, spec })));
}

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

export interface ErrorResponse {
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

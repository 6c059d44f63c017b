// The one table of Airlock's refusals. Every error a client, an operator or a test sees
// carries one of these stable codes; the message says what happened and what to do.

export const ERRORS = {
  TOKEN_MISSING: {
    status: 407,
    message:
      'no identity token: send the job\'s OIDC token as Proxy-Authorization: Bearer <jwt> (or Basic with the jwt as password), or as DD-API-KEY / Authorization: Bearer',
  },
  TOKEN_INVALID: {
    status: 403,
    // The detail always names the check that failed and what to do (identity/verify-token.ts).
    message: 'the identity token was rejected',
  },
  ISSUER_UNAVAILABLE: {
    // 503, not 403: the job's token may be fine; Airlock could not get the issuer's keys to check it.
    status: 503,
    message: 'the token\'s issuer could not be reached to fetch its signing keys, so the token could not be checked; nothing was forwarded: retry in a moment (an operator can find the cause in the log)',
  },
  TOKEN_EXPIRED: {
    // 403 like TOKEN_INVALID, not 407: the token usually rides inside the tunnel (DD-API-KEY),
    // where a 407 means nothing to the client, and curl turns a 407 into an opaque CONNECT failure.
    status: 403,
    message: 'the Airlock session token has expired: run `airlock login` again with a fresh OIDC token',
  },
  BIND_CONFLICT: {
    status: 409,
    message: 'another job holds the ambient binding on this host: it ends at that job\'s logout or expiry',
  },
  SESSION_LIMIT: {
    status: 503,
    message: 'Airlock holds too many live session tokens: retry later or shorten identity.sessionTtl',
  },
  NO_GRANT: {
    status: 403,
    message: 'no grant matches this identity: ask an operator to add a grant for its claims (`airlock whoami --token-file F` on the appliance shows which claim each grant refused)',
  },
  CREDENTIAL_MISSING: {
    status: 503,
    message: 'the grant\'s vault credential is missing: an operator must run `airlock vault put NAME`',
  },
  HOST_MISMATCH: {
    status: 421,
    message: 'the CONNECT target, TLS SNI and Host header disagree: send the request to the host you connected to',
  },
  DESTINATION_BLOCKED: {
    status: 403,
    message:
      'the destination is an IP address, resolves to an internal address, or resolves to an address of an intercepted Datadog host: connect to Datadog by its host name (api.<site>) through Airlock; list any other host under upstream.resolve if it is meant',
  },
  PASSTHROUGH_DENIED: {
    status: 403,
    message: 'this host is not intercepted and passthrough is deny: add it to intercept.hosts or set passthrough: allow',
  },
  RECORDING_FAILED: {
    status: 503,
    message: 'the exchange could not be recorded, so nothing was forwarded: an operator must check the state directory (disk space, permissions)',
  },
  RECORDING_INCOMPLETE: {
    // 502, not 503: the upstream did get the request, so a blind retry may repeat what it did.
    status: 502,
    message:
      'the request was forwarded, but its response could not be recorded, so it is withheld: an operator must check the state directory (disk space, permissions); the request may have taken effect, so check before retrying it',
  },
  UPSTREAM_UNREACHABLE: {
    status: 502,
    message: 'the upstream could not be reached: retry later, or check upstream.resolve and the network',
  },
  UPSTREAM_TLS: {
    status: 502,
    message: 'the upstream\'s TLS certificate could not be verified: check upstream.caFile; verification is never switched off',
  },
  BAD_REQUEST: {
    status: 400,
    message: 'the request could not be parsed: send a well-formed HTTP request',
  },
  NOT_FOUND: {
    status: 404,
    message: 'no such control endpoint: use the airlock CLI (approvals, sessions close, sessions flush), which speaks the control socket',
  },
  HOLD_NOT_FOUND: {
    status: 404,
    message: 'no pending hold with this id: it was decided already, timed out, or the server restarted (airlock approvals ls lists the pending ones)',
  },
  HOLD_EXPIRED: {
    status: 409,
    message: 'this hold timed out before the decision arrived; the request was already refused (the agent can retry it, which makes a new hold)',
  },
  HOLD_DECIDED: {
    status: 409,
    message: 'someone decided this hold first; the first decision stands (the console lists recent decisions and who made them)',
  },
  APPROVER_NOT_ALLOWED: {
    status: 403,
    message: 'this identity is not an approver: ask an operator to add your email or group to console.approvers',
  },
  CONSOLE_AUTH: {
    status: 401,
    message: 'sign in to the approval console first (its sign-in page starts the organization\'s OIDC login)',
  },
  CONSOLE_CSRF: {
    status: 403,
    message: 'the request did not come from the console page (Origin or CSRF token missing or wrong): reload the console and retry',
  },
  SLACK_SIGNATURE: {
    status: 401,
    message: 'the Slack callback\'s signature or timestamp is missing, wrong, too old or replayed: check console.slack.signingSecretFile',
  },
  BUS_UNAVAILABLE: {
    status: 503,
    message: 'the approval bus (Redis) cannot be reached: holds keep waiting until it is back or they time out; retry in a moment',
  },
  SESSION_NOT_OPEN: {
    status: 404,
    message: 'this server holds no open session with this id (airlock sessions ls --open lists them)',
  },
  BODY_TOO_LARGE: {
    status: 413,
    message: 'the request body exceeds the limit Airlock accepts',
  },
  SHUTTING_DOWN: {
    status: 503,
    message: 'Airlock is shutting down: retry in a moment',
  },
  POLICY_DENIED: {
    status: 403,
    message: 'the grant\'s policy does not allow this request; it was not forwarded (airlock policy test shows which rule decides)',
  },
  APPROVAL_DENIED: {
    status: 403,
    message: 'a person reviewed this held request and denied it; it was not forwarded',
  },
  APPROVAL_TIMEOUT: {
    status: 403,
    message: 'this request needed a person\'s approval and none came before approvals.timeout; it was not forwarded',
  },
  RATE_LIMITED: {
    status: 429,
    message: 'this session sent more requests than its policy\'s rateLimit allows: retry after the Retry-After seconds',
  },
  UPSTREAM_ENCODING: {
    status: 502,
    message:
      'the upstream\'s response used a coding Airlock cannot decode (unknown, corrupt, or decoding beyond the size cap), so it could not be masked and was withheld: retry, or ask for gzip, deflate, br or identity (Accept-Encoding)',
  },
  MASKING_UNAVAILABLE: {
    status: 502,
    message: 'the response could not be masked, so it is withheld rather than passed on unmasked',
  },
  REQUEST_TIMEOUT: {
    status: 408,
    message: 'the request did not arrive in time (headers within limits.headersTimeout, the body within limits.requestTimeout): send it without pauses',
  },
  CONNECTION_LIMIT: {
    status: 503,
    message: 'too many open client connections (limits.maxConnections, or limits.maxConnectionsPerSession for this job): close idle connections or reuse one, then retry',
  },
  INFLIGHT_LIMIT: {
    status: 503,
    message: 'responses not yet read by the client hold too many bytes on this connection or session (limits.maxInflightBytesPerConnection, limits.maxInflightBytesPerSession); nothing was forwarded: read the responses already asked for, then retry',
  },
  INTERNAL: {
    status: 500,
    message: 'Airlock hit an internal error: the request was not forwarded; an operator can find the cause in the logs',
  },
} as const satisfies Record<string, { status: number; message: string }>;

export type ErrorCode = keyof typeof ERRORS;

export class AirlockError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  /** Extra words for the client, appended to the table's message; never a secret. */
  readonly detail: string | undefined;

  /** Extra response headers (Retry-After); never a secret. */
  readonly headers: Readonly<Record<string, string>> | undefined;

  constructor(code: ErrorCode, detail?: string, options?: { cause?: unknown; headers?: Record<string, string> }) {
    super(detail ? `${ERRORS[code].message} (${detail})` : ERRORS[code].message, options);
    this.name = 'AirlockError';
    this.code = code;
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

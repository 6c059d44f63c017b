// Errors a client of the proxy meets: each is answered in Datadog's error shape with
// X-Airlock-Error: <code> (errors.ts toErrorResponse), or, where status is null, recorded or logged.
import type { ErrorSpec } from './spec.js';

export const PROXY_ERRORS = {
  TOKEN_MISSING: {
    status: 407,
    message:
      "no identity token: send the job's OIDC token as Proxy-Authorization: Bearer <jwt> (or Basic with the jwt as password), or as DD-API-KEY / Authorization: Bearer",
    doc: 'no identity token in any carrier (`Proxy-Authenticate: Bearer realm="airlock"`)',
  },
  TOKEN_INVALID: {
    status: 403,
    // The detail always names the check that failed and what to do (identity/verify-token.ts).
    message: 'the identity token was rejected',
    doc: 'the message names the check that failed and what to do: bad signature, unknown key id, expired (at when, and by how many seconds), `iat` or `nbf` in the future (each beyond `identity.clockSkew`), wrong audience (expected and received), unknown or wrong issuer, disallowed algorithm, or two different tokens; at login also a JWT already exchanged or one without `jti`; a session token that was logged out, or that this Airlock never issued',
  },
  ISSUER_UNAVAILABLE: {
    // 503, not 403: the job's token may be fine; Airlock could not get the issuer's keys to check it.
    status: 503,
    message:
      "the token's issuer could not be reached to fetch its signing keys, so the token could not be checked; nothing was forwarded: retry in a moment (an operator can find the cause in the log)",
    doc: "the token's issuer could not be reached for its signing keys (discovery or JWKS down, and no keys fetched before), so the token could not be checked; nothing was forwarded: retry; the log says why",
  },
  TOKEN_EXPIRED: {
    // 403 like TOKEN_INVALID, not 407: the token usually rides inside the tunnel (DD-API-KEY),
    // where a 407 means nothing to the client, and curl turns a 407 into an opaque CONNECT failure.
    status: 403,
    message: 'the Airlock session token has expired: run `airlock login` again with a fresh OIDC token',
    doc: 'the session token from `airlock login` is past `identity.sessionTtl`: log in again. 403 like `TOKEN_INVALID`, not 407: the token usually rides inside the tunnel (`DD-API-KEY`), where a 407 means nothing to a Datadog client',
  },
  BIND_CONFLICT: {
    status: 409,
    message: "another job holds the ambient binding on this host: it ends at that job's logout or expiry",
    doc: "`airlock login --bind` while another job holds the host's ambient binding",
  },
  SESSION_LIMIT: {
    status: 503,
    message: 'Airlock holds too many live session tokens: retry later or shorten identity.sessionTtl',
    doc: '10 000 live session tokens or 100 000 remembered JWT ids: logins are refused rather than anything forgotten',
  },
  NO_GRANT: {
    status: 403,
    message:
      'no grant matches this identity: ask an operator to add a grant for its claims (`airlock whoami --token-file F` on the appliance shows which claim each grant refused)',
    doc: "the token is valid but no grant matches its claims (at login, the message names each grant's first failing claim with the token's own value, never the grant's expected value; on the appliance, `airlock whoami --token-file F` shows the same); `airlock policy test --grant G` with no such grant (exit 2)",
  },
  CREDENTIAL_MISSING: {
    status: 503,
    message: "the grant's vault credential is missing: an operator must run `airlock vault put NAME`",
    doc: "the grant's vault entry does not exist, or its key source never yielded a value or the last one expired (`airlock vault ls` shows `missing`; the server's log says why); nothing was forwarded. `airlock replay --credential` with no such entry",
  },
  HOST_MISMATCH: {
    status: 421,
    message: 'the CONNECT target, TLS SNI and Host header disagree: send the request to the host you connected to',
    doc: "CONNECT target, SNI and Host header (or an absolute-form target's host) disagree",
  },
  DESTINATION_BLOCKED: {
    status: 403,
    message:
      'the destination is an IP address, resolves to an internal address, or resolves to an address of an intercepted Datadog host: connect to Datadog by its host name (api.<site>) through Airlock; list any other host under upstream.resolve if it is meant',
    doc: 'the destination is an IP literal, resolves to an internal address, or (passthrough) resolves to an address of an intercepted host',
  },
  PASSTHROUGH_DENIED: {
    status: 403,
    message: 'this host is not intercepted and passthrough is deny: add it to intercept.hosts or set passthrough: allow',
    doc: 'not an intercepted host and `passthrough: deny` (or an intercepted host on a port other than 443)',
  },
  RECORDING_FAILED: {
    status: 503,
    message: 'the exchange could not be recorded, so nothing was forwarded: an operator must check the state directory (disk space, permissions)',
    doc: 'the exchange could not be journalled; nothing was forwarded',
  },
  RECORDING_INCOMPLETE: {
    // 502, not 503: the upstream did get the request, so a blind retry may repeat what it did.
    status: 502,
    message:
      'the request was forwarded, but its response could not be recorded, so it is withheld: an operator must check the state directory (disk space, permissions); the request may have taken effect, so check before retrying it',
    doc: 'the request was forwarded but its response could not be journalled, so it is withheld; the HAR entry says `forwarded, response not recorded`. Check before retrying: the request may have taken effect',
  },
  HELD_ABORTED: {
    // Never answered: the client's connection ends with the server. It is the recorded code.
    status: null,
    message: 'the request was held for approval and Airlock stopped before a decision; it was never forwarded: send it again once Airlock is back',
    doc: 'recorded, not answered: the HAR entry of a request that was held for approval when Airlock stopped (status 0, `_airlock.decision: aborted`); it was never forwarded',
  },
  UPSTREAM_UNREACHABLE: {
    status: 502,
    message: 'the upstream could not be reached: retry later, or check upstream.resolve and the network',
    doc: 'connecting to the upstream failed',
  },
  UPSTREAM_TLS: {
    status: 502,
    message: "the upstream's TLS certificate could not be verified: check upstream.caFile; verification is never switched off",
    doc: "the upstream's certificate could not be verified",
  },
  UPSTREAM_FORBIDDEN: {
    // A log line's code: Datadog's own 403 reaches the client unchanged.
    status: null,
    message: 'Datadog refused the vaulted key (403); the request is not retried with another key: check the key `airlock vault rotate` made current',
    doc: "logged (and counted per credential), not an Airlock answer: Datadog answered 403 to a request that carried a vaulted key, which after a rotation means a wrong or revoked new key; Datadog's answer reaches the client unchanged",
  },
  BAD_REQUEST: {
    status: 400,
    message: 'the request could not be parsed: send a well-formed HTTP request',
    doc: 'a malformed request (a path or framing that cannot be normalized unambiguously: `%2F`, `..` above root, two Host headers, `Transfer-Encoding` other than `chunked`), or a request to the listener that is not one of its endpoints; on the control socket and the console, every malformed request',
  },
  BODY_TOO_LARGE: {
    status: 413,
    message: 'the request body exceeds the limit Airlock accepts',
    doc: "a request body to Airlock's own API (`/.airlock/v1/login`, the control socket's 16 KiB) beyond its limit",
  },
  SHUTTING_DOWN: {
    status: 503,
    message: 'Airlock is shutting down: retry in a moment',
    doc: 'Airlock is stopping and opens no new session; retry in a moment',
  },
  POLICY_DENIED: {
    status: 403,
    message: "the grant's policy does not allow this request; it was not forwarded (airlock policy test shows which rule decides)",
    doc: "the grant's policy (or the built-in key-management rule) denies the request; the rule's reason is in the message",
  },
  APPROVAL_DENIED: {
    status: 403,
    message: 'a person reviewed this held request and denied it; it was not forwarded',
  },
  APPROVAL_TIMEOUT: {
    status: 403,
    message: "this request needed a person's approval and none came before approvals.timeout; it was not forwarded",
  },
  RATE_LIMITED: {
    status: 429,
    message: "this session sent more requests than its policy's rateLimit allows: retry after the Retry-After seconds",
  },
  UPSTREAM_ENCODING: {
    status: 502,
    message:
      "the upstream's response used a coding Airlock cannot decode (unknown, corrupt, or decoding beyond the size cap), so it could not be masked and was withheld: retry, or ask for gzip, deflate, br or identity (Accept-Encoding)",
    doc: 'the response carries a content or transfer coding Airlock cannot decode (unknown, `chunked` not last, more than 4 layers), a corrupt body, or one that decodes beyond 16 × `maxBodyBytes` (at least 8 MiB); it is withheld, since it could hide a key',
  },
  MASKING_UNAVAILABLE: {
    status: 502,
    message: 'the response could not be masked, so it is withheld rather than passed on unmasked',
    doc: 'the response could not be masked (a JSON-path rule on a body beyond `maxBodyBytes`); it is withheld',
  },
  REQUEST_TIMEOUT: {
    status: 408,
    message: 'the request did not arrive in time (headers within limits.headersTimeout, the body within limits.requestTimeout): send it without pauses',
    doc: 'request headers or body did not arrive within `limits.headersTimeout` / `limits.requestTimeout`; the connection is closed (logged; nothing was forwarded for a headers timeout)',
  },
  CONNECTION_LIMIT: {
    status: 503,
    message:
      'too many open client connections (limits.maxConnections, or limits.maxConnectionsPerSession for this job): close idle connections or reuse one, then retry',
    doc: '`limits.maxConnections` open client connections (answered on the new connection, then closed), or a session already on `limits.maxConnectionsPerSession` connections (recorded; nothing forwarded)',
  },
  INFLIGHT_LIMIT: {
    status: 503,
    message:
      'responses not yet read by the client hold too many bytes on this connection or session (limits.maxInflightBytesPerConnection, limits.maxInflightBytesPerSession); nothing was forwarded: read the responses already asked for, then retry',
  },
  INTERNAL: {
    status: 500,
    message: 'Airlock hit an internal error: the request was not forwarded; an operator can find the cause in the logs',
    doc: 'a fault in Airlock; nothing was forwarded; the log says why',
  },
} as const satisfies Record<string, ErrorSpec>;

// Errors an operator or approver meets: answers of the control socket and the approval console
// (HTTP, same shape as the proxy's), and the CLI's own failures (`airlock: CODE: message` on
// stderr, exit 1, or 2 for a usage mistake).
import type { ErrorSpec } from './spec.js';

export const OPERATOR_ERRORS = {
  NOT_FOUND: {
    status: 404,
    message: 'no such control endpoint: use the airlock CLI (approvals, sessions close, sessions flush), which speaks the control socket',
    doc: 'the control socket has no such endpoint (the CLI is its only intended client; every malformed control request is a 400 `BAD_REQUEST`, a body over 16 KiB a 413)',
  },
  HOLD_NOT_FOUND: {
    status: 404,
    message: 'no pending hold with this id: it was decided already, timed out, or the server restarted (airlock approvals ls lists the pending ones)',
    doc: '`airlock approvals approve|deny ID`: no pending hold has that id (decided, timed out, or the server restarted)',
  },
  HOLD_EXPIRED: {
    status: 409,
    message: 'this hold timed out before the decision arrived; the request was already refused (the agent can retry it, which makes a new hold)',
    doc: "a decision (console, Slack, CLI) arrived after the hold's deadline; the request was already refused with `APPROVAL_TIMEOUT`",
  },
  HOLD_DECIDED: {
    status: 409,
    message: 'someone decided this hold first; the first decision stands (the console lists recent decisions and who made them)',
    doc: 'someone decided this hold first (first writer wins); the message says who, how and when',
  },
  APPROVER_NOT_ALLOWED: {
    status: 403,
    message: 'this identity is not an approver: ask an operator to add your email or group to console.approvers',
    doc: 'console sign-in, Slack callback or CLI token of an identity that `console.approvers` does not allow (or an unverified email, or a Slack user missing from `console.slack.users`)',
  },
  CONSOLE_AUTH: {
    status: 401,
    message: "sign in to the approval console first (its sign-in page starts the organization's OIDC login)",
    doc: 'the console needs a signed-in session (or the sign-in failed); the CLI on the bus got no approver token or one that does not verify against `console.oidc`',
  },
  CONSOLE_CSRF: {
    status: 403,
    message: 'the request did not come from the console page (Origin or CSRF token missing or wrong): reload the console and retry',
    doc: "a console decision without the page's CSRF token, or from another Origin",
  },
  SLACK_SIGNATURE: {
    status: 401,
    message: "the Slack callback's signature or timestamp is missing, wrong, too old or replayed: check console.slack.signingSecretFile",
    doc: 'a Slack callback with a missing or wrong `X-Slack-Signature`, a timestamp outside `console.slack.replayWindow`, or one already used',
  },
  BUS_UNAVAILABLE: {
    status: 503,
    message: 'the approval bus (Redis) cannot be reached: holds keep waiting until it is back or they time out; retry in a moment',
  },
  SESSION_NOT_OPEN: {
    status: 404,
    message: 'this server holds no open session with this id (airlock sessions ls --open lists them)',
    doc: '`airlock sessions close ID` through the control socket: the running server holds no open session with that id',
  },
  // The admin listener (admin.listen: /metrics, /healthz, /readyz), which a scraper or an operator meets.
  ADMIN_NOT_FOUND: {
    status: 404,
    message: 'no such admin endpoint: the admin listener serves /metrics (Prometheus text), /healthz (liveness) and /readyz (readiness)',
  },
  ADMIN_METHOD: {
    status: 405,
    message: 'the admin listener answers GET and HEAD only: /metrics, /healthz and /readyz read state and change none',
  },
  ADMIN_FAILED: {
    status: 500,
    message: "the admin endpoint could not gather its answer (the metrics or the readiness checks failed); the log line 'admin endpoint failed' says why",
  },
  // The CLI's own failures: no HTTP status, the message at the throw site is specific.
  USAGE: {
    status: null,
    message:
      'a command was called without what it needs (a required flag, a file instead of a key on the command line): see `airlock <command> --help` (exit 2)',
  },
  BAD_USAGE: { status: null, message: 'flags that do not go together, or none of the required ones: see `airlock <command> --help` (exit 2)' },
  BAD_DURATION: { status: null, message: 'a duration flag is not a duration: write e.g. 60s, 2h or 30d (exit 2)' },
  BAD_FILTER: { status: null, message: 'a sessions filter (--since, --until, --claim) is not a duration, an ISO time or KEY=VALUE (exit 2)' },
  BAD_QUERY: { status: null, message: 'a search flag (--status, --body, a session id) cannot be parsed: the message says which and what it wants (exit 2)' },
  BAD_TARGET: { status: null, message: '`airlock replay --target` is not a base URL such as https://api.datadoghq.eu (exit 2)' },
  TOKEN_SOURCE: {
    status: null,
    message:
      'no OIDC ID token could be read for `airlock login`: give --token-file, or run it in a CI job that can mint one (GitHub: `permissions: id-token: write`)',
  },
  UNREACHABLE: { status: null, message: 'Airlock (or the issuer) could not be reached over HTTP: check HTTPS_PROXY / --proxy and that the server runs' },
  LOGIN_FAILED: { status: null, message: '`airlock login` got an answer it cannot use (no CA, no code in a refusal): check that --proxy points at Airlock' },
  NO_SERVER: {
    status: null,
    message: 'no airlock server listens on the control socket: start it (systemctl start airlock) or point AIRLOCK_CONTROL_SOCKET at its socket',
  },
  APPROVAL_FORBIDDEN: { status: null, message: 'this OS user may not open the control socket: only members of approvals.group can list or decide holds' },
  LOGOUT_FAILED: { status: null, message: '`airlock logout`: Airlock refused without a code (an older server?): the message gives its status' },
  WHOAMI_FAILED: { status: null, message: '`airlock whoami`: Airlock refused without a code (an older server?): the message gives its status' },
  KEY_UNTRUSTED: {
    status: null,
    message:
      "the session's signature names a key outside the trusted set: put its public key in the trusted set (--keys DIR, or keys/ in recording.sink) only if an appliance you run published it",
  },
  CONTROL_FAILED: { status: null, message: 'the control socket refused without a code (an older server?): the message gives its status' },
  RELOAD_FAILED: { status: null, message: '`airlock reload`: the server refused without a code (an older server?): the message gives its status' },
  CLOSE_FAILED: { status: null, message: '`airlock sessions close`: the server could not close the session; its log says why' },
  SESSION_BUSY: { status: null, message: 'the session is open but held by another process than the running server: close it there, or stop that process' },
  SESSION_NOT_FOUND: { status: null, message: 'no session with this id (airlock sessions ls, or airlock fleet ls, lists the known ones)' },
  SESSION_ID_INVALID: { status: null, message: 'not a session id (letters, digits, `.`, `_` and `-`, no path): copy it from airlock sessions ls' },
  FLUSH_INCOMPLETE: {
    status: null,
    message: '`airlock sessions flush` left sessions in the outbox: the message says why for each (the sink unreachable or refusing)',
  },
  HAR_UNREADABLE: { status: null, message: 'the file cannot be read as a HAR (missing, unreadable, or no log.entries)' },
  HAR_TOO_LARGE: { status: null, message: 'the HAR is larger than a signed session can be, so it is not one Airlock wrote' },
  PUBLIC_KEY_INVALID: {
    status: null,
    message: 'the file is not a public Ed25519 JWK (or not the key its name says): export it with `airlock signing-key public`',
  },
  SINK_UNREACHABLE: { status: null, message: "the fleet's bucket (recording.sink) could not be listed or read: check its endpoint and credentials" },
  SINK_OBJECT_TOO_LARGE: { status: null, message: "an object in the fleet's bucket is larger than Airlock reads, so it is not one of its sessions" },
  // sessions verify and fleet verify: how a HAR's hash chain is broken (recording/verify-chain.ts).
  NOT_A_HAR: { status: null, message: 'the file is not a HAR written by Airlock (no log.entries)' },
  ENTRY_ALTERED: { status: null, message: 'an entry was changed after it was written: its content does not match its hash, or its chain link is broken' },
  ENTRY_MISSING: { status: null, message: 'an entry was removed: the chain skips a sequence number, or counts more entries than the file has' },
  ENTRY_REORDERED: { status: null, message: 'entries were moved or repeated: an entry is not at its sequence position' },
  FILE_TRUNCATED: { status: null, message: "the file ends inside the entries: the last entries and the chain's head are missing" },
  CHAIN_MISSING: { status: null, message: 'the HAR carries no hash chain (log._airlock.chain): it was not written by Airlock, or the chain was removed' },
  HEAD_MISMATCH: { status: null, message: "the last entry does not end at the chain's recorded head: entries were added or the head changed" },
  ERROR: { status: null, message: 'the CLI hit an error that carries no code of its own: the message says what failed' },
} as const satisfies Record<string, ErrorSpec>;

// What `airlock login` prints: the variables every common client reads for its proxy, its
// Datadog key (the session token stands in for it) and its CA.

import type { LoginAnswer } from '../identity/login-service.js';

/** What POST /.airlock/v1/login answers (the server's own type). */
export type LoginResult = LoginAnswer;

/** What the job must keep secret: the session token and its stand-in keys (an older server sends no stand-ins). */
export function secretsOf(r: Pick<LoginResult, 'token'> & Partial<Pick<LoginResult, 'apiKey' | 'appKey'>>): string[] {
  return [r.token, ...(r.apiKey ? [r.apiKey] : []), ...(r.appKey ? [r.appKey] : [])];
}

/**
 * The variables, in print order. `proxy` is http://HOST:PORT without credentials. DD_API_KEY and
 * DD_APP_KEY are the stand-ins in Datadog's shapes (tools that check a key's shape accept them);
 * the proxy URL carries the `alk_` token. NODE_USE_ENV_PROXY makes Node >= 22.21 / 24's own
 * fetch and https honour HTTPS_PROXY (older Node ignores it; see docs/ci-integration.md for Node 20).
 */
export function loginEnv(proxy: URL, r: Pick<LoginResult, 'token'> & Partial<Pick<LoginResult, 'apiKey' | 'appKey'>>, caFile: string): [string, string][] {
  const token = r.token;
  const withCreds = `http://airlock:${token}@${proxy.host}`;
  return [
    ['HTTPS_PROXY', withCreds],
    ['https_proxy', withCreds],
    ['NODE_USE_ENV_PROXY', '1'],
    ['DD_API_KEY', r.apiKey ?? token],
    ['DD_APP_KEY', r.appKey ?? token],
    ['NODE_EXTRA_CA_CERTS', caFile],
    ['REQUESTS_CA_BUNDLE', caFile],
    ['SSL_CERT_FILE', caFile],
    ['CURL_CA_BUNDLE', caFile],
    ['AIRLOCK_SESSION_TOKEN', token],
    ['AIRLOCK_PROXY', `http://${proxy.host}`],
  ];
}

function shQuote(v: string): string {
  return `'${v.replace(/'/g, `'\\''`)}'`;
}

/** For `eval "$(airlock login)"`. */
export function formatSh(vars: readonly [string, string][]): string {
  return vars.map(([k, v]) => `export ${k}=${shQuote(v)}`).join('\n');
}

/** $GITHUB_ENV lines; values never hold a newline (URLs, paths, base64url). */
export function formatGithubEnv(vars: readonly [string, string][]): string {
  for (const [k, v] of vars) if (/[\r\n]/.test(v)) throw new Error(`${k} holds a newline`);
  return `${vars.map(([k, v]) => `${k}=${v}`).join('\n')}\n`;
}

export function formatJson(r: LoginResult, proxy: URL, caFile: string, vars: readonly [string, string][]): string {
  return JSON.stringify({ ...r, proxy: `http://${proxy.host}`, caFile, env: Object.fromEntries(vars) }, null, 2);
}

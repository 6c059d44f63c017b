// What `airlock login` prints: the variables every common client reads for its proxy, its
// Datadog key (the session token stands in for it) and its CA.

import type { LoginAnswer } from '../identity/login-service.js';

/** What POST /.airlock/v1/login answers (the server's own type). */
export type LoginResult = LoginAnswer;

/** The variables, in print order. `proxy` is http://HOST:PORT without credentials. */
export function loginEnv(proxy: URL, token: string, caFile: string): [string, string][] {
  const withCreds = `http://airlock:${token}@${proxy.host}`;
  return [
    ['HTTPS_PROXY', withCreds],
    ['https_proxy', withCreds],
    ['DD_API_KEY', token],
    ['DD_APP_KEY', token],
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

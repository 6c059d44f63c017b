import { readFile } from 'node:fs/promises';
import { decodeJwt } from 'jose';
import { createLogger } from '../log.js';
import { fetchJson } from '../identity/fetch-json.js';
import { IdentityResolver } from '../identity/resolve-identity.js';
import { explainGrants, type GrantMiss } from '../identity/match-grant.js';
import { looksLikeSessionToken } from '../identity/session-token.js';
import { isAirlockError, codeOr } from '../errors.js';
import { CliError, load, type CommonArgs } from './context.js';
import { errorLine } from './cli-contract.js';
import { airlockMessage, httpCall } from './http-call.js';
import { proxyUrl } from './login.js';

export interface WhoamiArgs extends CommonArgs {
  'token-file'?: string | undefined;
  'token-env'?: string | undefined;
  proxy?: string | undefined;
  json?: boolean | undefined;
}

export interface WhoamiReport {
  readonly verified: boolean;
  /** Why verification failed; the grant verdict below is then on unverified claims. */
  readonly error?: string;
  readonly issuer: string | null;
  readonly sub: string | null;
  readonly grant: string | null;
  readonly misses: readonly GrantMiss[];
}

async function tokenOf(args: WhoamiArgs, env: NodeJS.ProcessEnv): Promise<string> {
  if (args['token-file']) return (await readFile(args['token-file'], 'utf8')).trim();
  const name = args['token-env'] ?? 'AIRLOCK_SESSION_TOKEN';
  const t = (env[name] ?? '').trim();
  if (!t) throw new CliError('USAGE', `no token: pass --token-file F or --token-env VAR (default $AIRLOCK_SESSION_TOKEN is empty)`, 2);
  return t;
}

/** The operator's view of a CI JWT against this config: the grant it gets, or per grant the first claim that failed. */
export async function explainJwt(args: CommonArgs, token: string): Promise<WhoamiReport> {
  const { config } = load(args);
  const resolver = new IdentityResolver(config.identity, { fetchJson, now: Date.now, log: createLogger({ level: 'silent' }) });
  let verified = true;
  let error: string | undefined;
  let claims: Record<string, unknown>;
  let issuerName: string | null;
  try {
    const v = await resolver.verify(token);
    claims = v.claims;
    issuerName = v.issuer.name;
  } catch (err) {
    // Often the token is already expired when an operator looks at it: still say which claim a grant refused.
    verified = false;
    error = isAirlockError(err) ? (err.detail ?? err.code) : String(err);
    try {
      claims = decodeJwt(token);
    } catch {
      return { verified, error, issuer: null, sub: null, grant: null, misses: [] };
    }
    issuerName = config.identity.issuers.find((i) => i.issuer === claims['iss'])?.name ?? null;
  }
  const sub = typeof claims['sub'] === 'string' ? claims['sub'] : null;
  if (issuerName === null) return { verified, ...(error ? { error } : {}), issuer: null, sub, grant: null, misses: [] };
  const v = explainGrants(config.identity.grants, issuerName, claims);
  return { verified, ...(error ? { error } : {}), issuer: issuerName, sub, grant: v.matched, misses: v.misses };
}

function show(v: unknown): string {
  return v === undefined ? '(absent)' : JSON.stringify(v);
}

export function formatReport(r: WhoamiReport): string {
  const lines = [
    `token:  ${r.verified ? 'verified' : `NOT verified (${r.error ?? 'unknown'}); the verdict below is on its unverified claims`}`,
    `issuer: ${r.issuer ?? '(no configured issuer matches its iss)'}`,
    `sub:    ${r.sub ?? '-'}`,
    `grant:  ${r.grant ?? 'none'}`,
  ];
  for (const m of r.misses) {
    lines.push(
      m.claim === 'issuer'
        ? `  ${m.grant}: for issuer ${show(m.expected)}`
        : `  ${m.grant}: ${m.claim} is ${show(m.actual)}, the grant wants ${show(m.expected)}`,
    );
  }
  return lines.join('\n');
}

export async function whoamiCommand(args: WhoamiArgs, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const token = await tokenOf(args, env);
  if (looksLikeSessionToken(token)) {
    const proxy = proxyUrl(args.proxy, env);
    const r = await httpCall(new URL('/.airlock/v1/whoami', proxy).href, { headers: { authorization: `Bearer ${token}` } }).catch((err: unknown) => {
      throw new CliError('UNREACHABLE', `cannot reach Airlock at ${proxy.host}: ${(err as Error).message}`);
    });
    if (r.status !== 200) throw new CliError(codeOr(r.headers['x-airlock-error'], 'WHOAMI_FAILED'), airlockMessage(r));
    const body = JSON.parse(r.body) as Record<string, unknown>;
    if (args.json) return JSON.stringify(body, null, 2);
    const who = (body['identity'] ?? {}) as Record<string, string>;
    return [
      // eslint-disable-next-line @typescript-eslint/no-base-to-string -- shows the server's JSON as it is
      `session: ${String(body['session'] ?? '-')}`,
      `grant:   ${String(body['grant'])}`,
      `expires: ${String(body['expiresAt'])}${body['bound'] === true ? ' (ambient binding)' : ''}`,
      ...Object.entries(who).map(([k, v]) => `  ${k}: ${v}`),
    ].join('\n');
  }
  const report = await explainJwt(args, token);
  if (!report.verified || report.grant === null) {
    // A failing verdict is still the result: on stdout (valid JSON with --json); stderr says why it exits 1.
    const code = report.grant === null ? 'NO_GRANT' : 'TOKEN_INVALID';
    const why =
      report.grant === null
        ? 'no grant matches this token (the report says which claim each grant refused)'
        : `the token does not verify: ${report.error ?? 'unknown'}`;
    process.stderr.write(`${errorLine(code, why)}\n`);
    process.exitCode = 1;
  }
  return args.json ? JSON.stringify(report, null, 2) : formatReport(report);
}

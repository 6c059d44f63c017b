import tls from 'node:tls';
import { appendFile, mkdir, writeFile, chmod } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { errorLine } from './cli-contract.js';
import { CliError } from './context.js';
import { airlockMessage, httpCall } from './http-call.js';
import { readIdToken } from './id-token-source.js';
import { formatGithubEnv, formatJson, formatSh, loginEnv, secretsOf, type LoginResult } from './login-output.js';
import { codeOr } from '../errors.js';

export interface LoginArgs {
  proxy?: string | undefined;
  audience?: string | undefined;
  'token-file'?: string | undefined;
  'token-env'?: string | undefined;
  github?: boolean | undefined;
  format?: string | undefined;
  bind?: boolean | undefined;
  'ca-file'?: string | undefined;
  'app-key-format'?: string | undefined;
}

export const DEFAULT_PROXY = 'http://127.0.0.1:3128';

/** http://HOST:PORT of the proxy's listener; credentials or a path in it are a usage error. */
export function proxyUrl(arg: string | undefined, env: NodeJS.ProcessEnv): URL {
  const raw = arg ?? env['AIRLOCK_PROXY'] ?? DEFAULT_PROXY;
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new CliError('USAGE', `--proxy must be a URL like ${DEFAULT_PROXY}`, 2);
  }
  if (u.protocol !== 'http:' || u.username || u.password || (u.pathname !== '/' && u.pathname !== '')) {
    throw new CliError('USAGE', `--proxy must be http://HOST:PORT (got ${u.protocol}//${u.host}${u.pathname})`, 2);
  }
  if (!u.port) u.port = '3128';
  return u;
}

/** Where the CA bundle goes: readable by the job whatever user runs the proxy. */
function caFilePath(arg: string | undefined, env: NodeJS.ProcessEnv): string {
  if (arg) return arg;
  if (env['RUNNER_TEMP']) return join(env['RUNNER_TEMP'], 'airlock-ca.pem');
  return join(homedir(), '.airlock', 'ca.pem');
}

async function fetchCa(proxy: URL): Promise<string> {
  const r = await httpCall(new URL('/.airlock/v1/ca', proxy).href);
  if (r.status !== 200 || !r.body.includes('BEGIN CERTIFICATE')) throw new CliError('LOGIN_FAILED', `the proxy did not hand out its CA (HTTP ${r.status})`);
  return r.body;
}

export async function loginCommand(args: LoginArgs, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const format = args.format ?? 'sh';
  if (!['sh', 'github-env', 'json'].includes(format)) throw new CliError('USAGE', '--format is sh, github-env or json', 2);
  if (args['app-key-format'] !== undefined && !['hex', 'ddapp'].includes(args['app-key-format']))
    throw new CliError('USAGE', '--app-key-format is hex or ddapp', 2);
  if (format === 'github-env' && !env['GITHUB_ENV']) throw new CliError('USAGE', '--format github-env needs $GITHUB_ENV (run it in a GitHub Actions step)', 2);
  const proxy = proxyUrl(args.proxy, env);
  const jwt = await readIdToken({ ...args, audience: args.audience ?? 'airlock' }, env);

  let r;
  try {
    r = await httpCall(new URL('/.airlock/v1/login', proxy).href, {
      method: 'POST',
      headers: { authorization: `Bearer ${jwt}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        bind: args.bind === true,
        ...(args['app-key-format'] && args['app-key-format'] !== 'hex' ? { appKeyFormat: args['app-key-format'] } : {}),
      }),
    });
  } catch (err) {
    throw new CliError('UNREACHABLE', `cannot reach Airlock at ${proxy.host}: ${(err as Error).message}`);
  }
  if (r.status !== 200) {
    const code = String(r.headers['x-airlock-error'] ?? 'LOGIN_FAILED');
    const message = airlockMessage(r).replace(/^airlock: /, '');
    if (format === 'json') {
      // A failing verdict is still the result: JSON on stdout, one diagnostic line on stderr, exit 1.
      process.stderr.write(`${errorLine(code, message)}\n`);
      process.exitCode = 1;
      return JSON.stringify({ ok: false, code, message }, null, 2);
    }
    throw new CliError(codeOr(code, 'LOGIN_FAILED'), message);
  }
  const result = JSON.parse(r.body) as LoginResult;

  // The public roots follow Airlock's CA: SSL_CERT_FILE and friends replace a client's roots, and
  // the job still reaches non-Datadog hosts through passthrough tunnels with their real certificates.
  const caFile = caFilePath(args['ca-file'], env);
  await mkdir(dirname(caFile), { recursive: true });
  await writeFile(caFile, `${(await fetchCa(proxy)).trim()}\n${tls.rootCertificates.join('\n')}\n`);
  await chmod(caFile, 0o644);

  const vars = loginEnv(proxy, result, caFile);
  if (format === 'json') return formatJson(result, proxy, caFile, vars);
  if (format === 'sh') return formatSh(vars);
  await appendFile(env['GITHUB_ENV']!, formatGithubEnv(vars));
  // Masked first, so that no later step's log shows it.
  return [
    ...secretsOf(result).map((s) => `::add-mask::${s}`),
    `airlock: logged in: session ${result.session}, grant ${result.grant}, until ${result.expiresAt}${result.bound ? ", bound as the host's ambient session" : ''}`,
  ].join('\n');
}

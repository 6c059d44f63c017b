import { readFile } from 'node:fs/promises';
import { CliError } from './context.js';
import { httpCall } from './http-call.js';

export interface TokenSourceArgs {
  readonly 'token-file'?: string | undefined;
  readonly 'token-env'?: string | undefined;
  readonly github?: boolean | undefined;
  readonly audience: string;
}

const NO_SOURCE =
  'no CI identity token: in GitHub Actions give the job `permissions: id-token: write`; in GitLab CI add ' +
  '`id_tokens: AIRLOCK_ID_TOKEN: {aud: airlock}` to the job; elsewhere put the token in AIRLOCK_ID_TOKEN or pass --token-file / --token-env';

/** The job's OIDC token, from the flag given or, with none, GitHub's variables, then AIRLOCK_ID_TOKEN. */
export async function readIdToken(args: TokenSourceArgs, env: NodeJS.ProcessEnv): Promise<string> {
  const given = [args['token-file'] !== undefined, args['token-env'] !== undefined, args.github === true].filter(Boolean).length;
  if (given > 1) throw new CliError('USAGE', 'give at most one of --token-file, --token-env and --github', 2);
  if (args['token-file'] !== undefined) {
    try {
      return nonEmpty((await readFile(args['token-file'], 'utf8')).trim(), args['token-file']);
    } catch (err) {
      if (err instanceof CliError) throw err;
      throw new CliError('TOKEN_SOURCE', `cannot read ${args['token-file']}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
    }
  }
  if (args['token-env'] !== undefined) return nonEmpty((env[args['token-env']] ?? '').trim(), `$${args['token-env']}`);
  const onGithub = Boolean(env['ACTIONS_ID_TOKEN_REQUEST_URL'] && env['ACTIONS_ID_TOKEN_REQUEST_TOKEN']);
  if (args.github === true || onGithub) return githubToken(env, args.audience);
  const t = (env['AIRLOCK_ID_TOKEN'] ?? '').trim();
  if (t === '') throw new CliError('TOKEN_SOURCE', NO_SOURCE);
  return t;
}

function nonEmpty(t: string, where: string): string {
  if (t === '') throw new CliError('TOKEN_SOURCE', `${where} is empty`);
  return t;
}

/** GitHub Actions: GET $ACTIONS_ID_TOKEN_REQUEST_URL&audience=AUD with the request token; `.value` is the JWT. */
async function githubToken(env: NodeJS.ProcessEnv, audience: string): Promise<string> {
  const base = env['ACTIONS_ID_TOKEN_REQUEST_URL'];
  const requestToken = env['ACTIONS_ID_TOKEN_REQUEST_TOKEN'];
  if (!base || !requestToken) {
    throw new CliError('TOKEN_SOURCE', 'ACTIONS_ID_TOKEN_REQUEST_URL/_TOKEN are not set: give the job `permissions: id-token: write`');
  }
  // The runner's URL already has a query string (api-version=...), hence `&`.
  const url = `${base}${base.includes('?') ? '&' : '?'}audience=${encodeURIComponent(audience)}`;
  let r;
  try {
    r = await httpCall(url, { headers: { authorization: `bearer ${requestToken}`, accept: 'application/json' }, maxBytes: 64 * 1024 });
  } catch (err) {
    throw new CliError('TOKEN_SOURCE', `cannot fetch the GitHub OIDC token: ${(err as Error).message}`);
  }
  if (r.status !== 200) throw new CliError('TOKEN_SOURCE', `the GitHub OIDC token endpoint answered HTTP ${r.status}`);
  let value: unknown;
  try {
    value = (JSON.parse(r.body) as { value?: unknown }).value;
  } catch {
    value = undefined;
  }
  if (typeof value !== 'string' || value === '') throw new CliError('TOKEN_SOURCE', 'the GitHub OIDC token endpoint answered without a "value"');
  return value;
}

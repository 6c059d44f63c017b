import { CliError } from './context.js';
import { airlockMessage, httpCall } from './http-call.js';
import { proxyUrl } from './login.js';
import { codeOr } from '../errors.js';

export interface LogoutArgs {
  proxy?: string | undefined;
  token?: string | undefined;
}

export async function logoutCommand(args: LogoutArgs, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const proxy = proxyUrl(args.proxy, env);
  const token = args.token ?? env['AIRLOCK_SESSION_TOKEN'];
  if (!token) throw new CliError('USAGE', 'no session token: set AIRLOCK_SESSION_TOKEN (airlock login exports it) or pass --token', 2);
  let r;
  try {
    r = await httpCall(new URL('/.airlock/v1/logout', proxy).href, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
  } catch (err) {
    throw new CliError('UNREACHABLE', `cannot reach Airlock at ${proxy.host}: ${(err as Error).message}`);
  }
  if (r.status !== 200) throw new CliError(codeOr(r.headers['x-airlock-error'], 'LOGOUT_FAILED'), airlockMessage(r));
  const body = JSON.parse(r.body) as { session?: string | null };
  return `airlock: logged out${body.session ? `; session ${body.session} closed` : ''}`;
}

// `airlock reload`: asks the running server, through its control socket, to re-read its config
// (the same as SIGHUP / `systemctl reload airlock`) and prints what changed or why it was refused.
import { callControl } from '../control/control-client.js';
import { CliError, controlSocket, load, type CommonArgs } from './context.js';

export async function reloadCommand(args: CommonArgs & { json?: boolean }): Promise<string> {
  const { config } = load(args);
  const socket = controlSocket(config);
  const reply = await callControl(socket, 'POST', '/v1/reload', 30_000);
  if (!reply)
    throw new CliError('NO_SERVER', `no running airlock serve answers on ${socket}: start it (systemctl start airlock), or pass the --config it runs with`);
  if (reply.status !== 200) throw new CliError(reply.code ?? 'RELOAD_FAILED', reply.message ?? `the server answered ${reply.status}`);
  const ok = reply.body['ok'] === true;
  const changed = Array.isArray(reply.body['changed']) ? reply.body['changed'].map(String) : [];
  const errors = Array.isArray(reply.body['errors']) ? reply.body['errors'].map(String) : [];
  if (!ok) process.exitCode = 1;
  if (args.json) return JSON.stringify({ ok, changed, errors }, null, 2);
  if (!ok) return ['reload refused; the previous config keeps running:', ...errors.map((e) => `  ${e}`)].join('\n');
  return changed.length > 0 ? `reloaded: ${changed.join(', ')} changed` : 'reloaded: nothing changed';
}

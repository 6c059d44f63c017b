import { execFile } from 'node:child_process';
import type { Logger } from './log.js';

// Node has no Unix datagram sockets, so readiness and watchdog pings go through systemd-notify
// (the unit sets NotifyAccess=all so a child may speak for the service).
function notify(args: string[], log: Logger): void {
  execFile('systemd-notify', args, { timeout: 5_000 }, (err) => {
    if (err) log.warn({ err: { message: err.message } }, 'systemd-notify failed');
  });
}

/** Tells systemd the service is ready and keeps its watchdog fed; a no-op outside systemd. */
export function notifySystemd(log: Logger, env: NodeJS.ProcessEnv = process.env): () => void {
  if (!env['NOTIFY_SOCKET']) return () => undefined;
  notify(['--ready', `--pid=${process.pid}`], log);
  const usec = Number(env['WATCHDOG_USEC']);
  if (!Number.isFinite(usec) || usec <= 0) return () => undefined;
  const timer = setInterval(() => notify([`--pid=${process.pid}`, 'WATCHDOG=1'], log), Math.max(1_000, usec / 2_000));
  timer.unref();
  return () => clearInterval(timer);
}

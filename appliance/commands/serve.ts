import { createLogger, type LogFormat } from '../log.js';
import { startServer } from '../server.js';
import { notifySystemd } from '../systemd-notify.js';
import { load, CliError, type CommonArgs } from './context.js';
import { startupErrors } from '../config/startup-checks.js';

/** The same refusal at start and at reload (config/startup-checks.ts). */
function checked(args: CommonArgs): ReturnType<typeof load> {
  const loaded = load(args);
  const errors = startupErrors(loaded.config);
  if (errors.length > 0) throw new CliError('CONFIG_REFUSED', `${loaded.file ?? 'built-in config'} is refused:\n${errors.map((e) => `  ${e}`).join('\n')}`, 2);
  return loaded;
}

/** Runs the proxy until SIGTERM/SIGINT, then shuts down cleanly and resolves. SIGHUP reloads the config. */
export async function serveCommand(args: CommonArgs & { 'log-format'?: LogFormat | undefined }): Promise<void> {
  const { config, file } = checked(args);
  const log = createLogger({ format: args['log-format'] ?? 'json' });
  // Registered before the (possibly slow) start: an early SIGHUP must not kill the process.
  let reload: (() => void) | null = null;
  process.on('SIGHUP', () => {
    log.info({ signal: 'SIGHUP' }, reload ? 'signal received: reloading the config' : 'signal received while starting: ignored');
    reload?.();
  });
  log.info({ config: file ?? 'built-in defaults' }, 'starting airlock');
  // A reload reads the same file with the same command-line overrides; its checks are the server's.
  const server = await startServer(config, { log, readConfig: () => load(args).config });
  // SIGHUP (systemctl reload airlock): re-read the config; never a reason to exit.
  reload = () => void server.reload();
  const stopWatchdog = notifySystemd(log);
  await new Promise<void>((resolve) => {
    let signals = 0;
    const onSignal = (sig: NodeJS.Signals): void => {
      signals += 1;
      if (signals > 1) {
        log.warn({ signal: sig }, 'second signal: exiting without waiting');
        process.exit(1);
      }
      log.info({ signal: sig }, 'signal received');
      stopWatchdog();
      server.close().then(resolve, (err: unknown) => {
        log.error({ err }, 'shutdown failed');
        process.exitCode = 1;
        resolve();
      });
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
}

import { createLogger, type LogFormat } from '../log.js';
import { startServer } from '../server.js';
import { notifySystemd } from '../systemd-notify.js';
import { load, type CommonArgs } from './context.js';

/** Runs the proxy until SIGTERM/SIGINT, then shuts down cleanly and resolves. */
export async function serveCommand(args: CommonArgs & { 'log-format'?: LogFormat | undefined }): Promise<void> {
  const { config, file } = load(args);
  const log = createLogger({ format: args['log-format'] ?? 'json' });
  log.info({ config: file ?? 'built-in defaults' }, 'starting airlock');
  const server = await startServer(config, { log });
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

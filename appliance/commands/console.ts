import { createLogger } from '../log.js';
import { openBus } from '../approvals/open-bus.js';
import { startConsole } from '../console/console-server.js';
import { CliError, load, type CommonArgs } from './context.js';

/** Runs the approval console until SIGTERM/SIGINT. */
export async function consoleCommand(args: CommonArgs): Promise<void> {
  const { config, file } = load(args);
  if (!config.console || !config.approvals.bus) {
    throw new CliError(
      'CONFIG',
      `${file ?? 'the config'} has no console: section (and approvals.bus): see docs/policies-approvals-masking.md, Approvals across a fleet`,
      2,
    );
  }
  const log = createLogger();
  const bus = openBus(config.approvals.bus);
  const c = await startConsole(config.console, { bus, log: log.child({ stage: 'console' }) });
  log.info({ url: c.url, publicUrl: config.console.publicUrl }, `airlock console listening on ${c.url}`);
  await new Promise<void>((resolve) => {
    const stop = (): void => {
      void c
        .close()
        .then(() => bus.close())
        .finally(resolve);
    };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
  log.info('airlock console stopped');
}

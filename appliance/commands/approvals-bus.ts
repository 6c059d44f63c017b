// `airlock approvals ls|approve|deny` when the config names approvals.bus: straight to Redis,
// as the approver an ID token proves (console.oidc, console.approvers), never as an OS user name.
import { openBus } from '../approvals/open-bus.js';
import { decideOnBus } from '../console/decide-on-bus.js';
import { operatorOf, readOperatorToken } from '../console/operator-token.js';
import type { ConsoleConfig } from '../config/console-schema.js';
import { AirlockError } from '../errors.js';
import { CliError, load, type CommonArgs } from './context.js';
import type { Pending } from './approvals.js';

/** A hold as the bus lists it: the control socket's fields, plus the runner that holds it. */
interface BusPending extends Pending {
  runner: string;
}

export interface BusCommands {
  ls(): Promise<BusPending[]>;
  decide(id: string, verb: 'approve' | 'deny', words: string): Promise<string>;
}

function asCli(err: unknown): never {
  if (err instanceof AirlockError) throw new CliError(err.code, err.message);
  throw err;
}

/** Null when the config has no bus (the control socket answers then). */
export async function busCommands(args: CommonArgs & { 'token-file'?: string }): Promise<BusCommands | null> {
  const { config } = load(args);
  const busCfg = config.approvals.bus;
  if (!busCfg) return null;
  if (!config.console)
    throw new CliError('CONFIG', 'approvals on the bus verify the approver with console.oidc and console.approvers: add a console: section', 2);
  const cons: ConsoleConfig = config.console;
  // Who is asking, before anything is read from the bus: listing shows request context too.
  const by = await operatorOf(readOperatorToken({ tokenFile: args['token-file'], env: process.env }), cons).catch(asCli);
  const withBus = async <T>(fn: (bus: ReturnType<typeof openBus>) => Promise<T>): Promise<T> => {
    const bus = openBus(busCfg);
    try {
      await bus.ready();
      return await fn(bus);
    } catch (err) {
      if (err instanceof AirlockError || err instanceof CliError) throw err;
      throw new CliError('BUS_UNAVAILABLE', `the approval bus cannot be reached (${(err as Error).message})`);
    } finally {
      await bus.close();
    }
  };
  return {
    ls: () =>
      withBus(async (bus) => {
        const t = Date.now();
        return (await bus.pending(t)).map((h) => ({ ...h, ageSeconds: Math.max(0, Math.round((t - Date.parse(h.heldAt)) / 1000)) }));
      }),
    decide: (id, verb, words) =>
      withBus(async (bus) => {
        const r = await decideOnBus(bus, id, verb === 'approve' ? 'approved' : 'denied', by, 'cli', words, Date.now).catch(asCli);
        return `${r.decision} ${id}: ${r.method} ${r.url} (by ${by})`;
      }),
  };
}

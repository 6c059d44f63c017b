// `airlock sessions ls` filters and `airlock sessions grep`.
import type { Argv } from 'yargs';
import { FilterError, parseClaim, parseWhen, type SessionFilter } from '../recording/index/index.js';
import { type ExchangeQuery, globToRegExp, matchesExchange, parseBodyRegex, parseStatus, QueryError, sessionEntries } from '../recording/har/index.js';
import { listSessions } from '../recording/session/index.js';
import { isSessionId } from '../recording/journal/index.js';
import { CliError, load, sessionsDir, type CommonArgs } from './context.js';

export interface LsFilterArgs {
  issuer?: string | undefined;
  sub?: string | undefined;
  grant?: string | undefined;
  claim?: string[] | undefined;
  since?: string | undefined;
  until?: string | undefined;
  open?: boolean | undefined;
  closed?: boolean | undefined;
}

export function lsFilterOptions<T>(y: Argv<T>) {
  return y
    .option('issuer', { type: 'string', describe: 'only sessions of this issuer (identity.issuers[].name)' })
    .option('sub', { type: 'string', describe: "only sessions whose token's sub is exactly this" })
    .option('grant', { type: 'string', describe: 'only sessions of this grant' })
    .option('claim', { type: 'string', array: true, describe: 'KEY=VALUE: the claim must equal VALUE (repeatable; all must match)' })
    .option('since', { type: 'string', describe: 'opened at or after: a duration ago (2h, 7d) or an ISO time' })
    .option('until', { type: 'string', describe: 'opened at or before: a duration ago or an ISO time' })
    .option('open', { type: 'boolean', describe: 'only open sessions' })
    .option('closed', { type: 'boolean', describe: 'only closed sessions' })
    .conflicts('open', 'closed');
}

function usage(err: unknown): never {
  if (err instanceof FilterError || err instanceof QueryError) throw new CliError(err.code, err.message, 2);
  throw err;
}

export function filterFromArgs(args: LsFilterArgs, now: number = Date.now()): SessionFilter {
  try {
    return {
      ...(args.issuer !== undefined ? { issuer: args.issuer } : {}),
      ...(args.sub !== undefined ? { sub: args.sub } : {}),
      ...(args.grant !== undefined ? { grant: args.grant } : {}),
      ...(args.claim && args.claim.length > 0 ? { claims: args.claim.map(parseClaim) } : {}),
      ...(args.since !== undefined ? { since: parseWhen(args.since, now) } : {}),
      ...(args.until !== undefined ? { until: parseWhen(args.until, now) } : {}),
      ...(args.open ? { status: 'open' as const } : args.closed ? { status: 'closed' as const } : {}),
    };
  } catch (err) {
    return usage(err);
  }
}

export interface GrepArgs extends CommonArgs, LsFilterArgs {
  method?: string[] | undefined;
  path?: string | undefined;
  status?: string | undefined;
  body?: string | undefined;
  session?: string[] | undefined;
  json?: boolean | undefined;
}

export function grepOptions<T>(y: Argv<T>) {
  return lsFilterOptions(y)
    .option('method', { type: 'string', array: true, describe: 'only these methods (repeatable, or comma-separated)' })
    .option('path', {
      type: 'string',
      describe: 'URL path pattern, as in policy match: * within a segment, ** any number of segments, ? one character; case is ignored',
    })
    .option('status', { type: 'string', describe: 'response status: 403, 4xx, or a comma list' })
    .option('body', { type: 'string', describe: 'regular expression matched against request and response bodies' })
    .option('session', { type: 'string', array: true, describe: 'only these sessions (repeatable)' })
    .option('json', { type: 'boolean', default: false, describe: 'one JSON object per line' });
}

export function queryFromArgs(args: GrepArgs): ExchangeQuery {
  try {
    const methods = (args.method ?? [])
      .flatMap((m) => m.split(','))
      .map((m) => m.trim().toUpperCase())
      .filter(Boolean);
    return {
      ...(methods.length > 0 ? { methods } : {}),
      ...(args.path !== undefined ? { path: globToRegExp(args.path) } : {}),
      ...(args.status !== undefined ? { status: parseStatus(args.status) } : {}),
      ...(args.body !== undefined ? { body: parseBodyRegex(args.body) } : {}),
    };
  } catch (err) {
    return usage(err);
  }
}

function write(out: NodeJS.WritableStream, text: string): Promise<void> {
  return new Promise((resolve, reject) => out.write(text, (err) => (err ? reject(err) : resolve())));
}

/** Streams matches as they are found (sessions newest first, entries in order); exit 1 when none. */
export async function sessionsGrepCommand(args: GrepArgs, out: NodeJS.WritableStream = process.stdout): Promise<string | null> {
  const { config } = load(args);
  const dir = sessionsDir(config.stateDir);
  const query = queryFromArgs(args);
  let ids: string[];
  if (args.session && args.session.length > 0) {
    const bad = args.session.find((id) => !isSessionId(id));
    if (bad !== undefined) throw new CliError('BAD_QUERY', `not a session id: ${JSON.stringify(bad)}`, 2);
    ids = args.session;
  } else {
    ids = (await listSessions(dir, filterFromArgs(args))).map((s) => s.id);
  }
  let matches = 0;
  for (const id of ids) {
    let n = 0;
    for await (const e of sessionEntries(dir, id)) {
      n++;
      if (!matchesExchange(e, query)) continue;
      matches++;
      const hit = {
        session: id,
        entry: n,
        startedDateTime: e.startedDateTime,
        method: e.request.method,
        url: e.request.url,
        status: e.response.status,
        decision: e._airlock?.decision,
      };
      await write(out, args.json ? `${JSON.stringify(hit)}\n` : `${id}  #${n}  ${hit.method} ${hit.status} ${hit.url}\n`);
    }
  }
  if (matches === 0) {
    process.exitCode = 1;
    return args.json ? null : 'no matching exchanges';
  }
  return null;
}

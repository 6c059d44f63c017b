import { Writable } from 'node:stream';
import { exportSession } from '../recording/session/index.js';
import { compileGrantPolicies } from '../policy/guard.js';
import { decide, type Decision } from '../policy/decide.js';
import { suggestionText } from '../policy/suggestion-text.js';
import type { HarEntry } from '../recording/har/index.js';
import { load, CliError, sessionsDir, type CommonArgs } from './context.js';

/** A HAR bigger than this is not read for a suggestion (the journal cap makes it unlikely). */
const MAX_HAR_BYTES = 512 * 1024 * 1024;

async function readHar(dir: string, id: string): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  const sink = new Writable({
    write(chunk: Buffer | string, _e, cb) {
      const b = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk);
      size += b.length;
      if (size > MAX_HAR_BYTES) {
        cb(new CliError('HAR_TOO_LARGE', `session ${id} is larger than ${MAX_HAR_BYTES} bytes`));
        return;
      }
      chunks.push(b);
      cb();
    },
  });
  await exportSession(dir, id, sink);
  return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
}

export async function policySuggestCommand(args: CommonArgs & { id: string; name?: string }): Promise<string> {
  const { config } = load(args);
  const har = (await readHar(sessionsDir(config.stateDir), args.id)) as { log?: { entries?: unknown } };
  const entries = Array.isArray(har.log?.entries) ? (har.log.entries as HarEntry[]) : [];
  return suggestionText(args.id, entries, args.name ?? `suggested-${args.id.slice(0, 12)}`);
}

/** "POST /api/v1/dashboard", "GET api.datadoghq.com/api/v1/validate" or "GET https://host/path". */
function parseRequest(text: string, defaultHost: string): { method: string; host: string; path: string } {
  const m = /^\s*([A-Za-z]+)\s+(\S+)\s*$/.exec(text);
  if (!m) throw new CliError('USAGE', `expected "METHOD PATH", got ${JSON.stringify(text)}`, 2);
  const method = m[1]!.toUpperCase();
  const target = m[2]!;
  if (target.startsWith('/')) return { method, host: defaultHost, path: target };
  const u = new URL(/^https?:\/\//i.test(target) ? target : `https://${target}`);
  return { method, host: u.hostname, path: `${u.pathname}${u.search}` };
}

function describe(d: Decision): string {
  const r = d.rule;
  const which = typeof r.rule === 'number' ? `rule ${r.rule} (${r.match ?? ''})` : r.rule === 'default' ? 'the default' : `the built-in ${r.rule} rule`;
  return `${d.action}${d.enforced ? '' : ' (report mode: forwarded and recorded as report-deny)'} by ${which} of policy ${r.policy}${r.reason ? `: ${r.reason}` : ''}`;
}

export function policyTestCommand(args: CommonArgs & { grant: string; request: string; body?: string; json?: boolean }): string {
  const { config } = load(args);
  const policies = compileGrantPolicies(config);
  const policy = policies.get(args.grant);
  if (!policy) throw new CliError('NO_GRANT', `no grant ${JSON.stringify(args.grant)} in the config`, 2);
  const site = config.intercept.datadogSites[0] ?? 'datadoghq.com';
  const req = parseRequest(args.request, `api.${site}`);
  let body: Parameters<typeof decide>[0]['body'];
  if (args.body !== undefined) {
    try {
      body = { state: 'json', value: JSON.parse(args.body) as unknown };
    } catch {
      body = { state: 'unreadable', reason: 'the body is not JSON' };
    }
  }
  const d = decide({ ...req, body }, policy);
  if (args.json) return JSON.stringify({ request: req, ...d }, null, 2);
  return `${req.method} ${req.host}${req.path}: ${describe(d)}`;
}

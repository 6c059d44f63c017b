// `npm run demo`: the first thing a newcomer runs. A local OIDC issuer, a fake Datadog and a real
// `airlock serve` on free ports; the official Datadog client creates a dashboard through it with a
// job token where its API key would be and an agent key that must never arrive; then a summary.
import { resolve, join } from 'node:path';
import { readFileSync } from 'node:fs';
import { fetch as undiciFetch, ProxyAgent } from 'undici';
import { client, v1 } from '@datadog/datadog-api-client';
import { startAirlock } from '../fixtures/airlock-process.js';

const dir = resolve(process.cwd(), '.airlock-demo');
process.stdout.write('starting a local OIDC issuer, a fake Datadog API and airlock ...\n');
const a = await startAirlock({ keepDir: dir });
let exitCode = 0;
try {
  const token = await a.issuer.mint();
  const dispatcher = new ProxyAgent({ uri: a.proxyUrl, token: `Bearer ${token}`, requestTls: { ca: readFileSync(a.caPath, 'utf8') } });
  const configuration = client.createConfiguration({
    // What a careless agent might do: bake a real-looking key into its config. Airlock strips it.
    authMethods: { apiKeyAuth: 'agent-supplied-key-0123456789abcdef', appKeyAuth: 'agent-supplied-app-key-0123456789' },
    fetch: (url: string, init: Record<string, unknown>) => undiciFetch(url, { ...init, dispatcher }),
  });
  const created = await new v1.DashboardsApi(configuration).createDashboard({
    body: { title: 'Airlock demo', layoutType: 'ordered', widgets: [{ definition: { type: 'note', content: 'created through Airlock' } }] },
  });
  await dispatcher.close();
  const got = a.datadog.received.at(-1);
  const upstreamKey = got?.headers['dd-api-key'];
  const list = JSON.parse((await a.cli(['sessions', 'ls', '--json'])).stdout) as Array<{ id: string; sub: string; grant: string }>;
  const session = list[0];
  if (!session) throw new Error('no session was recorded');
  const closed = await a.cli(['sessions', 'close', session.id]);
  if (closed.code !== 0) throw new Error(closed.stderr);
  const harPath = join(a.stateDir, 'sessions', `${session.id}.har`);
  const har = JSON.parse(readFileSync(harPath, 'utf8')) as {
    log: {
      entries: Array<{
        request: { method: string; url: string; headers: Array<{ name: string; value: string }> };
        response: { status: number };
        _airlock: { stripped: string[] };
      }>;
    };
  };
  const entry = har.log.entries[0];
  const shown = (n: string): string => entry?.request.headers.find((h) => h.name.toLowerCase() === n)?.value ?? '-';
  const lines = [
    '',
    `  airlock          ${a.proxyUrl}   (CA: ${a.caPath})`,
    `  job identity     sub=${session.sub}  grant=${session.grant}`,
    `  client           @datadog/datadog-api-client createDashboard -> id ${created.id ?? '?'}`,
    `  agent's key      ${upstreamKey === 'agent-supplied-key-0123456789abcdef' ? 'REACHED DATADOG (bug!)' : 'stripped, never reached Datadog'}`,
    `  Datadog saw      DD-API-KEY from the vault entry dd-prod (${upstreamKey === a.apiKey ? 'yes' : 'NO'})`,
    `  recorded         ${entry?.request.method} ${entry?.request.url} -> ${entry?.response.status}`,
    `  in the HAR       DD-API-KEY: ${shown('dd-api-key')}`,
    `  stripped         ${entry?._airlock.stripped.join(', ')}`,
    `  session HAR      ${harPath}`,
    '',
    '  Open it in Chrome DevTools: Network tab -> Import HAR file (or drag the file in).',
    `  More: node dist/appliance/cli.js sessions show ${session.id} --state-dir ${a.stateDir}`,
    '',
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  if (upstreamKey !== a.apiKey) exitCode = 1;
} catch (err) {
  process.stderr.write(`demo failed: ${(err as Error).message}\n`);
  exitCode = 1;
} finally {
  await a.cleanup();
}
process.exit(exitCode);

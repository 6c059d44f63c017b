// Re-issues a recorded session's requests, in order, against a sandbox base URL, through the
// same dialling as `serve` (upstream.resolve pins, internal addresses refused, upstream.caFile
// trusted, TLS always verified) and the same injection, and records the replay as a new session.
import https from 'node:https';
import http from 'node:http';
import tls from 'node:tls';
import { readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { randomUUID } from 'node:crypto';
import type { Config } from '../config/schema.js';
import type { Logger } from '../log.js';
import type { Identity } from '../identity/types.js';
import type { VaultEntry } from '../credentials/types.js';
import { injectCredential } from '../credentials/inject-credential.js';
import { forward, ForwardError, type ForwardOutcome } from '../proxy/forward.js';
import { resolveDestination, type Destination } from '../proxy/resolve-destination.js';
import { headerValue, toPairs } from '../lib/headers.js';
import { decodeContent } from '../lib/decode-body.js';
import type { HarEntry } from '../recording/har/index.js';
import { SessionStore } from '../recording/session/index.js';
import type { Exchange, Secret } from '../lib/exchange-types.js';
import { compareKeys, planReplay, type ReplayPlan } from './plan-replay.js';

export interface ReplayRow {
  readonly method: string;
  readonly path: string;
  readonly recorded: number;
  /** null when not sent (skipped, dry run) or no response came. */
  readonly replayed: number | null;
  readonly keysMatch: 'yes' | 'no' | '-';
  readonly note: string;
  readonly diverged: boolean;
  /** Whether the plan sends it (false: skipped, with the reason in `note`); a dry run sends nothing but says what it would. */
  readonly send: boolean;
}

export interface ReplayOptions {
  readonly config: Config;
  readonly entries: readonly HarEntry[];
  readonly originalSession: string;
  readonly target: URL;
  /** Always named by the operator (--credential): never the recorded session's credential. */
  readonly credential: { readonly name: string; readonly entry: VaultEntry };
  readonly only: ReadonlySet<string> | null;
  readonly dryRun: boolean;
  readonly operator: string;
  readonly sessionsDir: string;
  readonly seal?: (id: string, harPath: string) => Promise<void>;
  readonly log: Logger;
  readonly creatorVersion: string;
  readonly now?: () => number;
}

function recordedText(e: HarEntry): string | undefined {
  if (e._airlock?.truncated?.response) return undefined;
  const c = e.response?.content;
  if (typeof c?.text !== 'string') return undefined;
  return c.encoding === 'base64' ? Buffer.from(c.text, 'base64').toString('utf8') : c.text;
}

function replayedText(o: ForwardOutcome, max: number): string | undefined {
  const body = o.responseBody.body();
  if (body.truncated) return undefined;
  const enc = headerValue(o.rawHeaders, 'content-encoding')?.trim().toLowerCase();
  if (!enc || enc === 'identity') return body.bytes.toString('utf8');
  const d = decodeContent(body.bytes, enc, { maxOutputBytes: max, partial: false });
  return d.ok ? d.bytes.toString('utf8') : undefined;
}

async function drain(o: ForwardOutcome): Promise<void> {
  if (!o.rest) return;
  o.rest.resume();
  await new Promise<void>((resolve) => {
    o.rest!.once('end', resolve);
    o.rest!.once('error', () => resolve());
    o.rest!.once('close', resolve);
  });
}

function joinPath(base: URL, pathAndQuery: string): string {
  const prefix = base.pathname.replace(/\/+$/, '');
  return `${prefix}${pathAndQuery}`;
}

export async function replaySession(o: ReplayOptions): Promise<{ rows: ReplayRow[]; sessionId: string | null }> {
  const now = o.now ?? Date.now;
  const rows: ReplayRow[] = [];
  const plans: { entry: HarEntry; plan: ReplayPlan }[] = [];
  for (const entry of o.entries) {
    const plan = planReplay(entry);
    if (o.only && !o.only.has(plan.method)) continue;
    plans.push({ entry, plan });
  }
  const isTls = o.target.protocol === 'https:';
  const port = Number(o.target.port || (isTls ? 443 : 80));
  const hostHeader = o.target.host;
  if (o.dryRun) {
    for (const { entry, plan } of plans) {
      rows.push({
        method: plan.method,
        path: plan.kind === 'send' ? plan.pathAndQuery.split('?')[0]! : plan.path,
        recorded: entry.response?.status ?? 0,
        replayed: null,
        keysMatch: '-',
        note: plan.kind === 'skip' ? `skipped: ${plan.reason}` : `dry run: would send with credential ${o.credential.name}`,
        diverged: false,
        send: plan.kind === 'send',
      });
    }
    return { rows, sessionId: null };
  }

  const dest: Destination = await resolveDestination(o.target.hostname.toLowerCase(), port, o.config.upstream);
  const extraCa = o.config.upstream.caFile ? readFileSync(o.config.upstream.caFile, 'utf8') : null;
  const agent: http.Agent = isTls
    ? new https.Agent({
        keepAlive: true,
        maxSockets: 4,
        timeout: 60_000,
        ca: extraCa ? [...tls.rootCertificates, extraCa] : [...tls.rootCertificates],
        rejectUnauthorized: true,
      })
    : new http.Agent({ keepAlive: true, maxSockets: 4, timeout: 60_000 });
  const store = new SessionStore({
    sessionsDir: o.sessionsDir,
    maxBodyBytes: o.config.recording.maxBodyBytes,
    idleTimeoutMs: 24 * 3_600_000,
    log: o.log,
    now,
    creatorVersion: o.creatorVersion,
    ...(o.seal ? { seal: o.seal } : {}),
  });
  const identity: Identity = {
    issuer: 'replay',
    iss: 'airlock replay',
    sub: o.operator,
    claims: { replay_of: o.originalSession, target: o.target.origin },
    grant: 'replay',
    credential: o.credential.name,
    expiresAt: now() + 3_600_000,
  };
  const secrets: Secret[] = [
    { value: o.credential.entry.apiKey, label: `credential ${o.credential.name} api key` },
    ...(o.credential.entry.appKey ? [{ value: o.credential.entry.appKey, label: `credential ${o.credential.name} application key` }] : []),
  ];
  const meta = await store.ensure(identity, { replayOf: o.originalSession });
  try {
    for (const { entry, plan } of plans) {
      const recorded = entry.response?.status ?? 0;
      if (plan.kind === 'skip') {
        rows.push({
          method: plan.method,
          path: plan.path,
          recorded,
          replayed: null,
          keysMatch: '-',
          note: `skipped: ${plan.reason}`,
          diverged: false,
          send: false,
        });
        continue;
      }
      const { rawHeaders: headers, injected } = injectCredential([...plan.headers, 'host', hostHeader], o.credential.entry);
      const id = randomUUID();
      const startedDateTime = new Date(now()).toISOString();
      const url = `${o.target.protocol}//${hostHeader}${joinPath(o.target, plan.pathAndQuery)}`;
      const path = plan.pathAndQuery.split('?')[0]!;
      await store.begin(meta.id, { id, startedDateTime, method: plan.method, url }, secrets);
      const airlock = { decision: 'forwarded' as const, forwarded: true, grant: 'replay', credential: identity.credential, stripped: [], injected };
      try {
        const out = await forward({
          destination: dest,
          tls: isTls,
          method: plan.method,
          path: joinPath(o.target, plan.pathAndQuery),
          headers,
          body: Readable.from(plan.body ? [plan.body] : []),
          framing: plan.body ? { kind: 'length', length: plan.body.length } : { kind: 'none' },
          agent,
          maxBodyBytes: o.config.recording.maxBodyBytes,
          timeoutMs: 60_000,
          now,
        });
        await drain(out);
        const ex: Exchange = {
          id,
          startedDateTime,
          request: {
            method: plan.method,
            url,
            httpVersion: 'HTTP/1.1',
            headers: toPairs(headers),
            body: plan.body ? { size: plan.body.length, bytes: plan.body, truncated: false } : null,
          },
          response: {
            status: out.status,
            statusText: out.statusText,
            httpVersion: out.httpVersion,
            headers: toPairs(out.rawHeaders),
            body: out.responseBody.body(),
          },
          timings: out.timings,
          serverIPAddress: out.serverIPAddress,
          connection: String(out.serverPort),
          airlock,
        };
        await store.record(meta.id, ex, secrets);
        const keysMatch = compareKeys(recordedText(entry), replayedText(out, 8 * o.config.recording.maxBodyBytes + 1024 * 1024));
        const diverged = out.status !== recorded || keysMatch === 'no';
        rows.push({ method: plan.method, path, recorded, replayed: out.status, keysMatch, note: diverged ? 'diverged' : '', diverged, send: true });
      } catch (err) {
        const fe = err instanceof ForwardError ? err : new ForwardError('UPSTREAM_UNREACHABLE');
        await store.record(
          meta.id,
          {
            id,
            startedDateTime,
            request: { method: plan.method, url, httpVersion: 'HTTP/1.1', headers: toPairs(headers), body: null },
            response: null,
            error: fe.message,
            timings: fe.timings ?? { blocked: -1, dns: -1, connect: -1, ssl: -1, send: 0, wait: 0, receive: 0 },
            airlock: { ...airlock, decision: 'error', code: fe.code, errorCode: fe.code, forwarded: fe.requestBody !== undefined },
          },
          secrets,
        );
        rows.push({ method: plan.method, path, recorded, replayed: null, keysMatch: '-', note: `${fe.code}: ${fe.message}`, diverged: true, send: true });
      }
    }
  } finally {
    await store.close(meta.id, 'replay finished');
    agent.destroy();
  }
  return { rows, sessionId: meta.id };
}

import { isAbsolute } from 'node:path';
import { z } from 'zod';
import ms from 'ms';
import { approvalsSchema, maskingSchema, policySchema } from './policy-schema.js';
import { consoleSchema } from './console-schema.js';
import { PRESETS } from './issuer-presets.js';
import { resolveIssuer } from './resolve-issuer.js';
import { ruleProblem } from '../lib/claim-rules.js';
import { DEFAULT_DATADOG_SITES } from './datadog-sites.js';
import { STREAM_SLACK_BYTES } from '../lib/limits.js';

// The YAML file's shape. Unknown keys are errors (strictObject) so a typo never silently
// weakens a rule. Durations are written as "15m", "6h", "30d" and become milliseconds.

const duration = z.union([z.string(), z.number()]).transform((v, ctx) => {
  const out = typeof v === 'number' ? v : ms(v as ms.StringValue);
  if (typeof out !== 'number' || !Number.isFinite(out) || out <= 0) {
    ctx.addIssue({ code: 'custom', message: `not a positive duration: ${String(v)} (write e.g. "15m", "6h")` });
    return z.NEVER;
  }
  return out;
});

const hostPort = z.string().transform((v, ctx) => {
  const m = /^(\[[0-9a-fA-F:.]+\]|[^:\s]+):(\d{1,5})$/.exec(v);
  const port = m ? Number(m[2]) : NaN;
  if (!m || port > 65535) {
    ctx.addIssue({ code: 'custom', message: `expected HOST:PORT, got ${JSON.stringify(v)}` });
    return z.NEVER;
  }
  return { host: m[1]!.replace(/^\[|\]$/g, ''), port };
});

const hostname = z
  .string()
  .min(1)
  .transform((h) => h.toLowerCase().replace(/\.$/, ''));

const issuer = z
  .strictObject({
    name: z.string().min(1),
    /** A known CI issuer (see issuer-presets.ts); the alternative to writing `issuer`. */
    preset: z.enum(PRESETS).optional(),
    issuer: z.url().optional(),
    host: z.string().min(1).optional(),
    enterprise: z.string().min(1).optional(),
    url: z.url().optional(),
    orgId: z.string().min(1).optional(),
    audience: z.string().min(1),
    jwksUri: z.url().nullable().default(null),
    algorithms: z
      .array(z.enum(['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA']))
      .min(1)
      .default(['RS256']),
  })
  .transform((v, ctx) => {
    const resolved = resolveIssuer(v);
    if (!resolved.ok) {
      ctx.addIssue({ code: 'custom', path: [resolved.key], message: resolved.message });
      return z.NEVER;
    }
    return {
      name: v.name,
      issuer: resolved.issuer,
      kind: resolved.kind,
      preset: v.preset ?? null,
      audience: v.audience,
      jwksUri: v.jwksUri,
      algorithms: v.algorithms,
    };
  });

const s3Sink = z.strictObject({
  type: z.literal('s3'),
  bucket: z.string().min(1),
  prefix: z.string().default(''),
  endpoint: z.url().nullable().default(null),
  region: z.string().min(1).default('us-east-1'),
  forcePathStyle: z.boolean().default(false),
});

const claimValue = z.union([z.string(), z.number(), z.boolean()]).transform((v) => String(v));
// One rule, or a list meaning any of them; a bad `regex:` is a config error, not a request-time surprise.
const claimRule = z.union([claimValue, z.array(claimValue).min(1)]).superRefine((v, ctx) => {
  for (const rule of Array.isArray(v) ? v : [v]) {
    const bad = ruleProblem(rule);
    if (bad) ctx.addIssue({ code: 'custom', message: bad });
  }
});

const grant = z.strictObject({
  name: z.string().min(1),
  issuer: z.string().min(1),
  claims: z.record(z.string(), claimRule).default({}),
  credential: z.string().min(1),
  /** A name under `policies:`; without one, everything but key management is allowed (as before policies). */
  policy: z.string().min(1).optional(),
  /** Lets a grant on a shared issuer (github.com, gitlab.com, Buildkite) pin no tenant: every tenant matches (config/startup-checks.ts). */
  allowAnyTenant: z.boolean().optional(),
});

export const configSchema = z
  .strictObject({
    listen: hostPort.default({ host: '127.0.0.1', port: 3128 }),
    stateDir: z.string().min(1).default('.airlock'),
    intercept: z
      .strictObject({
        // Every Datadog site and intake domain (config/datadog-sites.ts): a site left out would be
        // passthrough, and a blind tunnel carries the agent's own key unrecorded.
        datadogSites: z.array(hostname).default([...DEFAULT_DATADOG_SITES]),
        hosts: z.array(hostname).default([]),
      })
      .prefault({}),
    // deny: what is not intercepted is refused unless the operator opens it (issue #11).
    passthrough: z.enum(['allow', 'deny']).default('deny'),
    upstream: z
      .strictObject({
        resolve: z.record(hostname, hostPort).default({}),
        caFile: z.string().min(1).nullable().default(null),
      })
      .prefault({}),
    identity: z
      .strictObject({
        issuers: z.array(issuer).default([]),
        grants: z.array(grant).default([]),
        /** Lifetime of a session token from `airlock login` (6 h: the longest GitHub-hosted job). */
        sessionTtl: duration.default(6 * 3_600_000),
        /** Lets `airlock login --bind` attribute token-less requests to one job (one-job-at-a-time runners only). */
        ambient: z.boolean().default(false),
        /** Tolerated difference between the CI issuer's clock and ours, on exp, nbf and iat alike. */
        clockSkew: duration.refine((v) => v <= 600_000, 'at most 10m: a larger skew keeps expired tokens alive').default(60_000),
      })
      .prefault({}),
    sessions: z.strictObject({ idleTimeout: duration.default(15 * 60_000) }).prefault({}),
    // The CLI's way into the running server. Null keeps it in the (0700) state dir, reachable by the
    // service user and root only; approvers need it in a directory their group can enter.
    control: z
      .strictObject({
        socket: z
          .string()
          .min(1)
          .max(100)
          .refine((p) => isAbsolute(p), 'an absolute path (e.g. /run/airlock/control.sock)')
          .nullable()
          .default(null),
      })
      .prefault({}),
    recording: z
      .strictObject({
        maxBodyBytes: z
          .number()
          .int()
          .min(0)
          .max(64 * 1024 * 1024)
          .default(1_048_576),
        // Where finalized HARs and their signatures are shipped (appliance/shipping/); credentials
        // come from the AWS environment/credential chain, never from this file.
        sink: s3Sink.nullable().default(null),
        /** `airlock sessions prune` removes closed, shipped sessions older than this; null keeps all. */
        retain: duration.nullable().default(null),
      })
      .prefault({}),
    // Prometheus metrics, /healthz and /readyz (metrics/admin-server.ts); null turns it off. Keep it
    // on loopback or a management interface: the egress ruleset keeps the runner user off its port.
    admin: z.strictObject({ listen: hostPort.nullable().default({ host: '127.0.0.1', port: 9464 }) }).prefault({}),
    ca: z.strictObject({ validity: duration.default(365 * 24 * 3_600_000) }).prefault({}),
    // Raw TLS accepted here is treated as a CONNECT to its SNI (the nftables nat rule redirects
    // the runner user's outbound 443 to it, for clients that never use a proxy).
    transparent: z.strictObject({ listen: hostPort.nullable().default(null) }).prefault({}),
    // Client connections: deadlines (enforced inside intercepted TLS too) and caps.
    limits: z
      .strictObject({
        /** From a connection's start (TLS handshake included), or the end of its last response plus idleTimeout, to complete request headers. */
        headersTimeout: duration.default(10_000),
        /** From a request's headers to its complete body. */
        requestTimeout: duration.default(300_000),
        /** No byte either way on a client connection for this long closes it. */
        idleTimeout: duration.default(60_000),
        maxConnections: z.number().int().min(1).default(1024),
        maxConnectionsPerSession: z.number().int().min(1).default(256),
        /** Response bytes held for a client that has not read them; each exchange counts recording.maxBodyBytes + 256 KiB. */
        maxInflightBytesPerConnection: z
          .number()
          .int()
          .min(1)
          .default(16 * 1024 * 1024),
        maxInflightBytesPerSession: z
          .number()
          .int()
          .min(1)
          .default(64 * 1024 * 1024),
      })
      .prefault({}),
    policies: z.record(z.string().min(1), policySchema).default({}),
    approvals: approvalsSchema,
    masking: maskingSchema,
    /** `airlock console`: the web app approvers use (needs approvals.bus). */
    console: consoleSchema.nullable().default(null),
  })
  .superRefine((cfg, ctx) => {
    // One exchange reserves recording.maxBodyBytes plus STREAM_SLACK_BYTES (proxy/limits.ts):
    // a cap below that would refuse every request.
    const exchange = cfg.recording.maxBodyBytes + STREAM_SLACK_BYTES;
    for (const key of ['maxInflightBytesPerConnection', 'maxInflightBytesPerSession'] as const) {
      if (cfg.limits[key] < exchange) {
        ctx.addIssue({
          code: 'custom',
          path: ['limits', key],
          message: `must be at least recording.maxBodyBytes + ${STREAM_SLACK_BYTES} (${exchange}): one exchange reserves that much`,
        });
      }
    }
    if (cfg.console && !cfg.approvals.bus) {
      ctx.addIssue({ code: 'custom', path: ['console'], message: 'the console reads holds from approvals.bus: configure it (type: redis, url)' });
    }
    const issuerNames = new Set<string>();
    cfg.identity.issuers.forEach((iss, i) => {
      if (issuerNames.has(iss.name)) {
        ctx.addIssue({ code: 'custom', path: ['identity', 'issuers', i, 'name'], message: `duplicate issuer name ${iss.name}` });
      }
      issuerNames.add(iss.name);
    });
    const grantNames = new Set<string>();
    cfg.identity.grants.forEach((g, i) => {
      if (!issuerNames.has(g.issuer)) {
        ctx.addIssue({
          code: 'custom',
          path: ['identity', 'grants', i, 'issuer'],
          message: `unknown issuer ${JSON.stringify(g.issuer)}: name one of identity.issuers[].name`,
        });
      }
      if (grantNames.has(g.name)) {
        ctx.addIssue({ code: 'custom', path: ['identity', 'grants', i, 'name'], message: `duplicate grant name ${g.name}` });
      }
      grantNames.add(g.name);
      if (g.policy !== undefined && !Object.hasOwn(cfg.policies, g.policy)) {
        ctx.addIssue({
          code: 'custom',
          path: ['identity', 'grants', i, 'policy'],
          message: `unknown policy ${JSON.stringify(g.policy)}: name one of the keys under policies:`,
        });
      }
    });
  });

type Parsed = z.output<typeof configSchema>;

type DeepReadonly<T> = T extends (infer U)[] ? readonly DeepReadonly<U>[] : T extends object ? { readonly [K in keyof T]: DeepReadonly<T[K]> } : T;

export type Config = DeepReadonly<Parsed>;
export type IssuerConfig = Config['identity']['issuers'][number];
export type GrantConfig = Config['identity']['grants'][number];
/** Where sealed sessions are uploaded; shipping/ writes there and fleet/ reads back from it. */
export type SinkConfig = NonNullable<Config['recording']['sink']>;

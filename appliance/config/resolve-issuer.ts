import { expandPreset, kindOfIssuer, type IssuerKind, type Preset } from './issuer-presets.js';

export interface IssuerInput {
  readonly preset?: Preset | undefined;
  readonly issuer?: string | undefined;
  readonly host?: string | undefined;
  readonly enterprise?: string | undefined;
  readonly url?: string | undefined;
  readonly orgId?: string | undefined;
}

export type ResolvedIssuer = { ok: true; issuer: string; kind: IssuerKind } | { ok: false; key: string; message: string };

/** Which preset each parameter belongs to: a parameter without its preset is a typo, not a no-op. */
const PARAM_PRESET = { host: 'github-enterprise-server', enterprise: 'github-enterprise-cloud', url: 'gitlab', orgId: 'circleci' } as const;

/** `issuer:` written out, or a preset; exactly one of them. */
export function resolveIssuer(v: IssuerInput): ResolvedIssuer {
  for (const [key, preset] of Object.entries(PARAM_PRESET) as [keyof typeof PARAM_PRESET, Preset][]) {
    if (v[key] !== undefined && v.preset !== preset) return { ok: false, key, message: `${key} goes with preset: ${preset}` };
  }
  if (v.preset === undefined) {
    if (v.issuer === undefined)
      return {
        ok: false,
        key: 'issuer',
        message: 'give issuer (a URL) or preset (github, github-enterprise-server, github-enterprise-cloud, gitlab, buildkite, circleci)',
      };
    return { ok: true, issuer: v.issuer, kind: kindOfIssuer(v.issuer) };
  }
  if (v.issuer !== undefined) return { ok: false, key: 'issuer', message: `preset ${v.preset} sets the issuer: drop issuer or drop preset` };
  const r = expandPreset(v as IssuerInput & { preset: Preset });
  return r.ok ? r : { ok: false, key: 'preset', message: r.message };
}

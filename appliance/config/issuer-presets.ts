// Known CI issuers. A preset fills the issuer URL (from the few values that vary per customer)
// and the algorithm; keys always come from OIDC discovery on that issuer. The audience is never
// filled in: a token minted for some other relying party must not work here.

export const PRESETS = ['github', 'github-enterprise-server', 'github-enterprise-cloud', 'gitlab', 'buildkite', 'circleci'] as const;
export type Preset = (typeof PRESETS)[number];

/** Which claim vocabulary an issuer speaks; drives check-config's warnings and log attribution. */
export type IssuerKind = 'github' | 'gitlab' | 'buildkite' | 'circleci' | 'generic';

export const GITHUB_ISSUER = 'https://token.actions.githubusercontent.com';
export const GITLAB_COM = 'https://gitlab.com';
export const BUILDKITE_ISSUER = 'https://agent.buildkite.com';
const CIRCLECI_ISSUER_BASE = 'https://oidc.circleci.com/org/';

export interface PresetParams {
  readonly preset: Preset;
  /** github-enterprise-server: the appliance's host name (and port). */
  readonly host?: string | undefined;
  /** github-enterprise-cloud: the enterprise slug of its custom issuer. */
  readonly enterprise?: string | undefined;
  /** gitlab: the instance URL. */
  readonly url?: string | undefined;
  /** circleci: the organization id. */
  readonly orgId?: string | undefined;
}

export type PresetResult = { ok: true; issuer: string; kind: IssuerKind } | { ok: false; message: string };

const HOST = /^[A-Za-z0-9.-]+(:\d{1,5})?$/;
const SLUG = /^[A-Za-z0-9][A-Za-z0-9_-]*$/;
const ORG_ID = /^[A-Za-z0-9-]+$/;

/** The issuer URL a preset stands for, or why its parameters do not make one. */
export function expandPreset(p: PresetParams): PresetResult {
  const need = (key: string, v: string | undefined, re: RegExp, example: string): string | null =>
    v === undefined ? `preset ${p.preset} needs ${key} (e.g. ${example})` : re.test(v) ? null : `preset ${p.preset}: ${key} must look like ${example}`;
  switch (p.preset) {
    case 'github':
      return { ok: true, issuer: GITHUB_ISSUER, kind: 'github' };
    case 'github-enterprise-server': {
      const bad = need('host', p.host, HOST, 'github.example.com');
      return bad ? { ok: false, message: bad } : { ok: true, issuer: `https://${p.host!.toLowerCase()}/_services/token`, kind: 'github' };
    }
    case 'github-enterprise-cloud': {
      const bad = need('enterprise', p.enterprise, SLUG, 'my-enterprise');
      return bad ? { ok: false, message: bad } : { ok: true, issuer: `${GITHUB_ISSUER}/${p.enterprise!}`, kind: 'github' };
    }
    case 'gitlab':
      // GitLab's iss is the instance URL exactly as configured, without a trailing slash.
      return { ok: true, issuer: (p.url ?? GITLAB_COM).replace(/\/+$/, ''), kind: 'gitlab' };
    case 'buildkite':
      return { ok: true, issuer: BUILDKITE_ISSUER, kind: 'buildkite' };
    case 'circleci': {
      const bad = need('orgId', p.orgId, ORG_ID, 'c7a8d1e2-0000-4000-8000-000000000000');
      return bad ? { ok: false, message: bad } : { ok: true, issuer: `${CIRCLECI_ISSUER_BASE}${p.orgId!}`, kind: 'circleci' };
    }
  }
}

/** The kind of a plainly written issuer URL, so that name-spoofing warnings also cover it. */
export function kindOfIssuer(issuer: string): IssuerKind {
  const i = issuer.replace(/\/+$/, '');
  if (i === GITHUB_ISSUER || i.startsWith(`${GITHUB_ISSUER}/`) || /^https:\/\/[^/]+\/_services\/token$/.test(i)) return 'github';
  if (i === GITLAB_COM) return 'gitlab';
  if (i === BUILDKITE_ISSUER) return 'buildkite';
  if (i.startsWith(CIRCLECI_ISSUER_BASE)) return 'circleci';
  return 'generic';
}

// Every Datadog site, as Datadog documents its `site` parameter (docs.datadoghq.com, "Getting
// Started with Datadog Sites"): US1 datadoghq.com, US3/US5/AP1/AP2/UK1 under it, EU1 datadoghq.eu,
// US1-FED ddog-gov.com and US2-FED under it. api.<site> and the intake hosts (http-intake.logs.,
// trace.agent., ...) live under each site, so a site is intercepted whole.
export const DATADOG_SITES = [
  'datadoghq.com',
  'us3.datadoghq.com',
  'us5.datadoghq.com',
  'ap1.datadoghq.com',
  'ap2.datadoghq.com',
  'uk1.datadoghq.com',
  'datadoghq.eu',
  'ddog-gov.com',
  'us2.ddog-gov.com',
] as const;

// The browser/mobile intake (RUM, browser logs, session replay, and the CI test tracers that share
// it) is the one documented intake that is NOT under its site: browser-intake-<site with dashes>.
// It accepts keys like any intake, so it is intercepted too. Not listed: the SDK's CDN
// (datadoghq-browser-agent.com), which serves scripts and takes no key.
const DATADOG_INTAKE_DOMAINS = [
  'browser-intake-datadoghq.com',
  'browser-intake-us3-datadoghq.com',
  'browser-intake-us5-datadoghq.com',
  'browser-intake-ap1-datadoghq.com',
  'browser-intake-ap2-datadoghq.com',
  'browser-intake-uk1-datadoghq.com',
  'browser-intake-datadoghq.eu',
  'browser-intake-ddog-gov.com',
  'browser-intake-us2-ddog-gov.com',
] as const;

/** The default intercept.datadogSites: every site and every intake domain outside them. */
export const DEFAULT_DATADOG_SITES: readonly string[] = [...DATADOG_SITES, ...DATADOG_INTAKE_DOMAINS];

/** The api host of a configured entry, or null for an intake domain (it has no api. host). */
export function apiHostOf(site: string): string | null {
  return site.startsWith('browser-intake-') ? null : `api.${site}`;
}

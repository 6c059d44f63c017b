// /readyz: whether this appliance should be given jobs. Ready = the CA is loaded, the vault was
// read, the journal directory is writable and at least one issuer's keys are loaded or cached (a
// job's token can be verified). Pure: the server passes in how to look at each part.
export interface ReadinessProbes {
  readonly ca: () => boolean;
  /** Read, with at least one entry to inject. */
  readonly vault: () => boolean;
  /** Resolves when the sessions directory can take a new journal; rejects with why not. */
  readonly journalWritable: () => Promise<void>;
  readonly issuerKeys: () => number;
  readonly issuers: number;
}

interface Check {
  readonly ok: boolean;
  readonly detail: string;
}

export interface Readiness {
  readonly ready: boolean;
  readonly checks: { readonly ca: Check; readonly vault: Check; readonly journal: Check; readonly issuers: Check };
}

export async function readiness(p: ReadinessProbes): Promise<Readiness> {
  const journal = await p.journalWritable().then(
    (): Check => ({ ok: true, detail: 'writable' }),
    (err: unknown): Check => ({ ok: false, detail: `not writable: ${(err as { code?: string }).code ?? 'error'}` }),
  );
  const keys = p.issuerKeys();
  const checks = {
    ca: p.ca() ? { ok: true, detail: 'loaded' } : { ok: false, detail: 'not loaded' },
    vault: p.vault() ? { ok: true, detail: 'read, with entries' } : { ok: false, detail: 'no entries: airlock vault put' },
    journal,
    issuers:
      p.issuers === 0
        ? { ok: false, detail: 'no issuer configured (identity.issuers)' }
        : keys > 0
          ? { ok: true, detail: `keys of ${keys} of ${p.issuers} issuers loaded` }
          : { ok: false, detail: `no issuer's keys could be fetched yet (${p.issuers} configured)` },
  };
  return { ready: Object.values(checks).every((c) => c.ok), checks };
}

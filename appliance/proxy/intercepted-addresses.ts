import ipaddr from 'ipaddr.js';

// Enough for every address Datadog's load balancers hand out across all sites, many times over;
// past it the oldest is forgotten (a bound on memory that a hostile job could otherwise grow).
const MAX_ADDRESSES = 65_536;

/**
 * The addresses seen for intercepted hosts: every resolution made for one, the upstream.resolve
 * pins of intercepted hosts, and what the configured sites' api hosts resolved to at start. A
 * passthrough CONNECT whose name resolves to one of them is another name for Datadog (a CNAME
 * target, a load balancer's own name, an /etc/hosts alias) and would tunnel the agent's own key
 * blind. Best effort by nature: an address Airlock has never seen for Datadog is not in it.
 */
export class InterceptedAddresses {
  private readonly seen = new Set<string>();

  add(address: string): void {
    const key = canonical(address);
    if (key === null || this.seen.has(key)) return;
    if (this.seen.size >= MAX_ADDRESSES) {
      const oldest = this.seen.values().next();
      if (!oldest.done) this.seen.delete(oldest.value);
    }
    this.seen.add(key);
  }

  has(address: string): boolean {
    const key = canonical(address);
    return key !== null && this.seen.has(key);
  }

  get size(): number {
    return this.seen.size;
  }
}

/** One spelling per address: IPv4-mapped IPv6 becomes IPv4, IPv6 is written out in full. */
function canonical(address: string): string | null {
  try {
    return ipaddr.process(address).toNormalizedString();
  } catch {
    return null;
  }
}

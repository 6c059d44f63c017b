import { AirlockError } from '../errors.js';
import type { Config } from '../config/schema.js';
import { isIpLiteral } from './ip-literal.js';
import type { InterceptedAddresses } from './intercepted-addresses.js';
import { resolveDestination, type Destination, type Lookup } from './resolve-destination.js';

export interface PassthroughContext {
  readonly config: Config;
  readonly addresses: InterceptedAddresses;
  readonly lookup?: Lookup | undefined;
}

/**
 * Where a connection to a host Airlock does not intercept may go, decided before anything is
 * dialled. `passthrough: deny` refuses every one. With `allow`, two things are still refused
 * because each is a way to reach Datadog blind, with the agent's own key and no recording: an IP
 * literal (`--connect-to api.datadoghq.com:443:<ip>:443` makes curl CONNECT to the address), and a
 * name that resolves to an address seen for an intercepted host (another name for Datadog).
 *
 * upstream.resolve pins are the operator's word and are exempt, as from the internal-address
 * check: a pinned passthrough host is tunnelled even when its pin is also an intercepted host's
 * address. So a pin that points a passthrough name at Datadog is a blind tunnel the operator made.
 */
export async function passthroughDestination(host: string, port: number, ctx: PassthroughContext): Promise<Destination> {
  if (ctx.config.passthrough === 'deny') throw new AirlockError('PASSTHROUGH_DENIED', host);
  const pinned = Object.hasOwn(ctx.config.upstream.resolve, host);
  if (!pinned && isIpLiteral(host)) {
    throw new AirlockError('DESTINATION_BLOCKED', `${host} is an IP address; passthrough goes to host names only`);
  }
  const destination = await resolveDestination(host, port, ctx.config.upstream, ctx.lookup);
  if (!destination.pinned && ctx.addresses.has(destination.address)) {
    throw new AirlockError('DESTINATION_BLOCKED', `${host} resolves to an address of an intercepted Datadog host; use the Datadog host name`);
  }
  return destination;
}

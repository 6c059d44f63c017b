// The trusted key set a verify command was given: --keys DIR, or --sink (recording.sink's keys/).
import { CliError, load, type CommonArgs } from './context.js';
import { keysFromDir, keysFromSink, type TrustedKeys } from '../fleet/trusted-keys.js';
import { sinkReader, type SinkReader } from '../fleet/sink-client.js';
import type { SinkConfig } from '../config/schema.js';

export function configuredSink(args: CommonArgs): SinkConfig {
  const { config } = load(args);
  const sink = config.recording.sink;
  if (!sink) throw new CliError('NO_SINK', "recording.sink is not configured: give the fleet's bucket in the config file (recording.sink)", 2);
  return sink;
}

export async function trustedKeysFor(
  args: CommonArgs & { keys?: string | undefined; sink?: boolean | undefined },
): Promise<{ keys: TrustedKeys; where: string; close: () => void }> {
  if (args.keys !== undefined) {
    const keys = keysFromDir(args.keys);
    return { keys, where: keys.where, close: () => undefined };
  }
  const sink = configuredSink(args);
  const reader: SinkReader = sinkReader(sink);
  const keys = keysFromSink(reader, sink);
  return { keys, where: keys.where, close: () => reader.close() };
}

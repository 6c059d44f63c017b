// Every entry of a session, one at a time (a session can be far larger than memory): the final
// HAR read line by line (Airlock writes one entry per line), or, for an open session, the
// journal's exchanges as they would appear in the HAR.
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';
import { buildHarEntry } from './build-har-entry.js';
import { errCode } from '../../lib/file-io.js';
import type { HarEntry } from './har-types.js';
import { parseJournalLine, readJournalLines, sessionPaths } from '../journal/index.js';

/** Lines of a HAR file that are entries: `{...}` or `{...},` between the header and the trailer. */
export function harEntriesOf(file: string): AsyncGenerator<HarEntry> {
  return harEntriesFrom(createReadStream(file, { highWaterMark: 256 * 1024 }));
}

/** The same for a HAR already in memory (a sink object). */
export function harEntriesOfText(text: string): AsyncGenerator<HarEntry> {
  return harEntriesFrom(Readable.from([text]));
}

async function* harEntriesFrom(input: Readable): AsyncGenerator<HarEntry> {
  const rl = createInterface({ input, crlfDelay: Infinity });
  let first = true;
  for await (const line of rl) {
    if (first) {
      first = false;
      continue;
    }
    if (!line.startsWith('{')) continue;
    try {
      yield JSON.parse(line.endsWith(',') ? line.slice(0, -1) : line) as HarEntry;
    } catch {
      // A damaged line: `sessions verify` (and `fleet verify`) names it; grep just passes over it.
    }
  }
}

async function* journalEntriesOf(file: string): AsyncGenerator<HarEntry> {
  const fh = await open(file, 'r');
  try {
    const { size } = await fh.stat();
    for await (const text of readJournalLines(fh, { endAt: size })) {
      if (!text.startsWith('{"type":"exchange"')) continue;
      const line = parseJournalLine(text);
      if (line?.type !== 'exchange') continue;
      try {
        yield buildHarEntry(line);
      } catch {
        // As above.
      }
    }
  } finally {
    await fh.close();
  }
}

export async function* sessionEntries(sessionsDir: string, id: string): AsyncGenerator<HarEntry> {
  const paths = sessionPaths(sessionsDir, id);
  try {
    yield* harEntriesOf(paths.har);
    return;
  } catch (err) {
    if (errCode(err) !== 'ENOENT') throw err;
  }
  try {
    yield* journalEntriesOf(paths.journal);
  } catch (err) {
    if (errCode(err) !== 'ENOENT') throw err;
  }
}

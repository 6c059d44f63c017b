// Fleet search over the sink's index (layout.ts): list the day prefixes the filter's time range
// covers, newest day first, skip records whose id (its opening second) is outside the range
// before fetching them, fetch the rest a few dozen at a time, and yield the matches in order as
// they come. A day's query reads only that day's records.
import { matchesFilter, type SessionFilter } from '../recording/index/index.js';
import { harEntriesOf, harEntriesOfText } from '../recording/har/index.js';
import { indexPrefixes, type SinkPrefix } from './layout.js';
import { parseIndexRecord, type IndexRecord } from './index-record.js';
import { mapOrdered, type SinkReader } from './sink-client.js';

const MAX_RECORD_BYTES = 1024 * 1024;
const FETCH_WIDTH = 32;

/** The opening second encoded in a session id (session-id.ts), as epoch ms; NaN if it is not one. */
export function idTime(id: string): number {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z-/.exec(id);
  return m ? Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6])) : NaN;
}

function idOfKey(key: string): string {
  const base = key.slice(key.lastIndexOf('/') + 1);
  return base.endsWith('.json') ? base.slice(0, -'.json'.length) : '';
}

/** False only when the id proves the session opened outside the range (ids have second precision). */
export function mayMatchById(id: string, f: SessionFilter): boolean {
  const t = idTime(id);
  if (!Number.isFinite(t)) return false;
  if (f.since !== undefined && t + 1000 <= f.since) return false;
  if (f.until !== undefined && t > f.until) return false;
  return true;
}

async function* each<T>(items: readonly T[]): AsyncGenerator<T> {
  for (const i of items) yield i;
}

export async function* fleetRecords(reader: SinkReader, sink: SinkPrefix, filter: SessionFilter, now: number): AsyncGenerator<IndexRecord> {
  for (const prefix of indexPrefixes(sink, filter.since, filter.until, now)) {
    const keys: string[] = [];
    for await (const k of reader.list(prefix)) if (mayMatchById(idOfKey(k), filter)) keys.push(k);
    keys.sort((a, b) => (idOfKey(a) < idOfKey(b) ? 1 : idOfKey(a) > idOfKey(b) ? -1 : 0));
    const fetched = mapOrdered(each(keys), FETCH_WIDTH, async (k) => {
      const bytes = await reader.get(k, MAX_RECORD_BYTES);
      return bytes ? parseIndexRecord(bytes.toString('utf8')) : null;
    });
    for await (const rec of fetched) if (rec && matchesFilter(rec, filter)) yield rec;
  }
}

export type { IndexRecord };
export { harEntriesOf, harEntriesOfText as entriesOfHarText };

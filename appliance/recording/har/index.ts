// HAR 1.2 built from the journal: entries, the streamed file written at close, and queries over entries.
export { NO_RESPONSE_ERROR, buildHarEntry, buildNoResponseEntry } from './build-har-entry.js';
export { codeOf, entryOutcome } from './entry-outcome.js';
export type { HarEntry } from './har-types.js';
export { type ExchangeQuery, globToRegExp, matchesExchange, parseBodyRegex, parseStatus, QueryError } from './match-exchange.js';
export { harEntriesOf, harEntriesOfText, sessionEntries } from './read-entries.js';
export { streamHar } from './stream-har.js';

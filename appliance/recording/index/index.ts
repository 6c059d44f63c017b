// The sessions index: one line per session so `sessions ls/search` need not open every journal.
export { compactIndex, compactIndexIfGrown } from './compact-index.js';
export { FilterError, linePrefilter, matchesFilter, parseClaim, parseWhen, type SessionFilter } from './filter-sessions.js';
export { HEADER_BYTES, readLayout } from './index-layout.js';
export { MAX_LINE, chunksBackward, chunksForward, compilePrefilter, selectLines } from './index-lines.js';
export { listNewest, listSessions, type SessionListing } from './list-sessions.js';
export { INDEX_FILE, IndexedSummary, appendIndex, foldIndex, indexLine, indexPath, readIndex } from './session-index.js';

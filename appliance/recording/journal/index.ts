// The journal: one JSON line per exchange, appended as it happens (the durable record), and the
// session's files on disk (ids, paths, meta). What a recorded exchange looks like is decided here.
export { asText } from './body-text.js';
export { captureBody } from './capture-body.js';
export type { JournalBeginLine, JournalBody, JournalExchangeLine, SessionSummary } from './journal-types.js';
export { chainLine, type JournalFile, JournalWriter, type OpenJournalFile } from './journal-writer.js';
export { readSummary, writeSummary } from './meta-file.js';
export { PendingLines } from './pending-lines.js';
export { parseJournalLine, readJournalLines } from './read-journal.js';
export { refusalResponse } from './refusal-response.js';
export { SessionFileError } from './session-error.js';
export { SESSION_ID_PATTERN, assertSessionId, isSessionId, newSessionId } from './session-id.js';
export { identityFields, sessionClaims, sessionMetaOf } from './session-meta.js';
export { sessionPaths } from './session-paths.js';
export { toJournalExchange } from './to-journal-exchange.js';
export { RESPONSE_NOT_RECORDED, unrecordedExchange } from './unrecorded-exchange.js';

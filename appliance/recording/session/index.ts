// A recording session's life: the store the proxy writes to, finalizing and recovering journals,
// the reserve that keeps recording possible when the disk fills, and the session files API.
export { exportSession, finalizeJournal, listNewest, listSessions, type SessionSummary, showSession } from './session-files.js';
export { SessionStore } from './session-store.js';
export { FileReserve, sessionsReserve, type SpaceReserve } from './space-reserve.js';

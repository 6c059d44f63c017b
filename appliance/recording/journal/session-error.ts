// Errors of the session files API (CLI side). They are not client answers, so they live
// outside the proxy's error table; callers switch on `.code`.
export type SessionFileErrorCode = 'SESSION_NOT_FOUND' | 'SESSION_ID_INVALID';

export class SessionFileError extends Error {
  readonly code: SessionFileErrorCode;
  constructor(code: SessionFileErrorCode, message: string) {
    super(message);
    this.name = 'SessionFileError';
    this.code = code;
  }
}

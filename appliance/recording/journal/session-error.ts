// Errors of the session files API (CLI side). They are not client answers, so they live
// outside the proxy's error table; callers switch on `.code`.
import { CodedError } from '../../errors.js';
type SessionFileErrorCode = 'SESSION_NOT_FOUND' | 'SESSION_ID_INVALID';

export class SessionFileError extends CodedError<SessionFileErrorCode> {
  constructor(code: SessionFileErrorCode, message: string) {
    super(code, message);
    this.name = 'SessionFileError';
  }
}

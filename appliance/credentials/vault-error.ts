// Errors of the vault's CLI side (put/ls/rm, key files, the env). They are not HTTP refusals:
// a running proxy turns a missing entry into AirlockError('CREDENTIAL_MISSING') itself.
// A message names files, variables and rules, never a key.
import { CodedError } from '../errors.js';

type VaultErrorCode =
  | 'VAULT_NAME_INVALID'
  | 'VAULT_KEY_EMPTY'
  | 'VAULT_KEY_INVALID'
  | 'VAULT_KEY_FILE_UNREADABLE'
  | 'VAULT_ENV_MISSING'
  | 'VAULT_LOCKED'
  | 'VAULT_CORRUPT'
  | 'VAULT_IO'
  | 'VAULT_SOURCE_FAILED'
  | 'VAULT_NOT_FOUND';

export class VaultError extends CodedError<VaultErrorCode> {
  constructor(code: VaultErrorCode, message: string) {
    // No `cause`: a parse or I/O error's message can quote file content, which may be a key.
    super(code, message);
    this.name = 'VaultError';
  }
}

export function isVaultError(err: unknown): err is VaultError {
  return err instanceof VaultError;
}

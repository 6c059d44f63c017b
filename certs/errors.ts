// Refusals raised while making, loading or using the interception CA. They are operator-facing
// (CLI, start-up) or a TLS handshake refusal, never a client's HTTP answer, so they live here
// rather than in appliance/errors.ts. Messages name files and hosts, never key material.

export type CertErrorCode =
  'HOST_NOT_PERMITTED' | 'BAD_DOMAIN' | 'CA_CERT_MISSING' | 'CA_KEY_MISSING' | 'CA_KEY_MISMATCH' | 'CA_KEY_PERMISSIONS' | 'CA_INVALID' | 'CA_EXPIRED';

export class CertError extends Error {
  readonly code: CertErrorCode;

  constructor(code: CertErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CertError';
    this.code = code;
  }
}

export function isCertError(err: unknown): err is CertError {
  return err instanceof CertError;
}

// Tamper evidence: the hash chain over entries, its verifier, and the detached signature over a HAR.
export { CHAIN_ALG, canonicalJson, entryHash, newChainOrigin, sha256Hex } from './chain.js';
export type { EntryChain, LogChain } from './chain.js';
export { MAX_SIGNED_HAR_BYTES, kidOfSignature, signHar } from './sign-har.js';
export { SigningKeyError, loadOrCreateSigningKey, loadSigningKey, signingKeyPath } from './signing-key.js';
export type { SigningKey } from './signing-key.js';
export { verifyChain } from './verify-chain.js';
export { VerifyError, verifyHarFile } from './verify-har-file.js';

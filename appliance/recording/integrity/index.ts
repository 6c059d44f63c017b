// Tamper evidence: the hash chain over entries, its verifier, and the detached signature over a HAR.
export { canonicalJson, CHAIN_ALG, type EntryChain, entryHash, type LogChain, newChainOrigin, sha256Hex } from './chain.js';
export { MAX_SIGNED_HAR_BYTES, kidOfSignature, signHar } from './sign-har.js';
export { loadOrCreateSigningKey, loadSigningKey, type SigningKey, SigningKeyError, signingKeyPath } from './signing-key.js';
export { verifyChain } from './verify-chain.js';
export { VerifyError, verifyHarFile } from './verify-har-file.js';

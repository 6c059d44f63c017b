// Errors of the appliance's configuration and state files (config, vault, keys, CA, listeners):
// reported by `airlock serve`, `check-config` and the vault commands; never an HTTP answer.
import type { ErrorSpec } from './spec.js';

export const CONFIG_ERRORS = {
  CONFIG_INVALID: {
    status: null,
    message: 'the config file does not validate: every problem is listed with its key path (`airlock check-config` shows the same; exit 2)',
  },
  CONFIG_REFUSED: {
    status: null,
    message: 'the config validates but cannot be served (a grant naming a missing policy, a file that cannot be read): the message lists each reason (exit 2)',
  },
  CONFIG: {
    status: null,
    message: 'the command needs a config section that is missing (e.g. console: for approvals on the bus): the message names it (exit 2)',
  },
  NO_RETENTION: { status: null, message: 'nothing says how long to keep sessions: set recording.retain (e.g. 30d) or pass --older-than (exit 2)' },
  NO_SINK: { status: null, message: "recording.sink is not configured: give the fleet's bucket in the config file (exit 2)" },
  LISTEN_FAILED: {
    status: null,
    message: 'a listener cannot bind (address in use, a port below 1024 without CAP_NET_BIND_SERVICE, no such address); nothing was created',
  },
  CA_CONSTRAINTS: {
    status: null,
    message: "the CA's name constraints do not cover every intercepted host: run `airlock ca init --force` and give clients the new ca.crt",
  },
  SIGNING_KEY_MISSING: { status: null, message: 'no signing key in the state directory: `airlock serve` creates it on its first start' },
  SIGNING_KEY_INVALID: {
    status: null,
    message: 'the signing key file does not hold a usable Ed25519 key: restore it from a backup (a new key cannot sign old sessions)',
  },
  LOGIN_STATE: { status: null, message: 'the login state file (live session tokens) cannot be read or parsed: remove it to log every job out' },
  VAULT_NAME_INVALID: { status: null, message: 'not a vault entry name (letters, digits, `.`, `_` and `-`)' },
  VAULT_KEY_EMPTY: { status: null, message: 'the key given to the vault is empty' },
  VAULT_KEY_INVALID: { status: null, message: 'the key given to the vault contains whitespace or control characters inside it' },
  VAULT_KEY_FILE_UNREADABLE: { status: null, message: 'the key file given to the vault cannot be read (missing, or permission denied)' },
  VAULT_ENV_MISSING: { status: null, message: 'DD_API_KEY (or DD_APP_KEY) is not set: export it, or use --api-key-file' },
  VAULT_LOCKED: { status: null, message: "another vault command holds the vault's lock: retry when it is done" },
  VAULT_CORRUPT: {
    status: null,
    message: "the vault file is not valid JSON or not the vault's shape: restore it from a backup, or remove it and put the entries again",
  },
  VAULT_IO: { status: null, message: 'the vault file could not be read or written (permissions, disk space): the message names the operation and the errno' },
  VAULT_SOURCE_FAILED: { status: null, message: 'a key source (command or file) did not yield a key: the message says what it printed wrong, never the key' },
  VAULT_NOT_FOUND: { status: null, message: 'no vault entry with this name (airlock vault ls lists them)' },
} as const satisfies Record<string, ErrorSpec>;

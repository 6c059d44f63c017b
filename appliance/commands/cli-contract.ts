// The command line's contract, in one place: every command and subcommand that exists (so an
// unknown one is a usage error that names it, and tests can check that every command a message
// names is real), the one error line format, and a quiet end on a closed pipe.

/** Top-level commands and their subcommands ([] when a command has none). */
export const COMMANDS: Readonly<Record<string, readonly string[]>> = {
  serve: [],
  ca: ['init', 'cert'],
  vault: ['put', 'rotate', 'ls', 'rm'],
  sessions: ['ls', 'show', 'close', 'export', 'verify', 'grep', 'flush', 'prune'],
  approvals: ['ls', 'approve', 'deny'],
  console: [],
  fleet: ['ls', 'grep', 'export', 'verify'],
  policy: ['suggest', 'test'],
  replay: [],
  reload: [],
  'signing-key': ['public'],
  login: [],
  logout: [],
  whoami: [],
  'check-config': [],
};

/** The command path argv names (positionals before the first option), or why it names none that exists. */
export function unknownCommand(argv: readonly string[]): string | null {
  const words: string[] = [];
  for (const a of argv) {
    if (a.startsWith('-')) break;
    words.push(a);
    if (words.length === 2) break;
  }
  const [cmd, sub] = words;
  if (cmd === undefined) return null;
  const subs = COMMANDS[cmd];
  if (subs === undefined) return `unknown command ${JSON.stringify(cmd)}: airlock --help lists the commands`;
  if (subs.length > 0 && sub !== undefined && !subs.includes(sub)) {
    return `unknown command "${cmd} ${sub}": airlock ${cmd} --help lists its subcommands (${subs.join(', ')})`;
  }
  return null;
}

/**
 * The one error line: `airlock: CODE: message`. A message that already carries the prefix or the
 * code (an error relayed from the proxy's `{"errors":["airlock: ..."]}`) is not prefixed twice.
 */
export function errorLine(code: string, message: string): string {
  let m = message.trim();
  for (;;) {
    const before = m;
    m = m.replace(/^airlock:\s*/, '');
    if (m.startsWith(`${code}:`)) m = m.slice(code.length + 1).trimStart();
    if (m === before) break;
  }
  return `airlock: ${code}: ${m || 'failed'}`;
}

/** A reader that stops reading (`| head`) ends the command quietly with status 0. */
export function isBrokenPipe(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === 'EPIPE';
}

export function quietOnBrokenPipe(stream: NodeJS.WriteStream = process.stdout): void {
  stream.on('error', (err) => {
    if (isBrokenPipe(err)) process.exit(0);
    // eslint-disable-next-line @typescript-eslint/only-throw-error -- the stream's own error, re-thrown as it came
    throw err;
  });
}

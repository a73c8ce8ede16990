/** The process surface the CLI writes to; injectable so commands never reach for globals. */
export interface OutputStream {
  write(text: string): unknown;
  readonly isTTY?: boolean;
}

export interface CliIo {
  readonly stdout: OutputStream;
  readonly stderr: OutputStream;
  readonly env: Readonly<Record<string, string | undefined>>;
}

export function processIo(): CliIo {
  return { stdout: process.stdout, stderr: process.stderr, env: process.env };
}

/**
 * Colour only on a terminal: FORCE_COLOR (anything but 0/false) forces it on, NO_COLOR (non-empty)
 * turns it off, otherwise the stream must be a TTY and TERM not "dumb".
 */
export function colorEnabled(stream: OutputStream, env: CliIo['env']): boolean {
  const force = env.FORCE_COLOR;
  if (force !== undefined) return force !== '0' && force.toLowerCase() !== 'false';
  if (env.NO_COLOR) return false;
  return stream.isTTY === true && env.TERM !== 'dumb';
}

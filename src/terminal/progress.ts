import type { OutputStream } from './io.js';

/**
 * Progress on stderr. On a terminal one status line is rewritten in place and cleared at the end; off
 * a terminal only `note` lines are written (CI logs stay readable).
 */
export interface Progress {
  /** Replaces the status line (TTY only). */
  update(text: string): void;
  /** A line that is kept (always written). */
  note(text: string): void;
  /** Clears the status line. */
  clear(): void;
}

export function createProgress(stream: OutputStream, options: { quiet?: boolean } = {}): Progress {
  const tty = stream.isTTY === true && !options.quiet;
  let shown = false;
  const clear = (): void => {
    if (shown) stream.write('\r\x1b[2K');
    shown = false;
  };
  return {
    update(text) {
      if (!tty) return;
      stream.write(`\r\x1b[2K${text}`);
      shown = true;
    },
    note(text) {
      if (options.quiet) return;
      clear();
      stream.write(`${text}\n`);
    },
    clear,
  };
}

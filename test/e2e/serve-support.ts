/**
 * `serve` as a child process for the end-to-end tests, and polling for what it does. Each test file keeps
 * the children it started and kills the ones still running in its afterAll (`killServed`).
 */
import { spawn, type ChildProcess } from 'node:child_process';

const ROOT = new URL('../..', import.meta.url).pathname;
/** The admin token every served process accepts. */
export const TOKEN = 'e2e-admin-token-0123456789';
export const authHeaders = { authorization: `Bearer ${TOKEN}` };

export interface Served {
  readonly proc: ChildProcess;
  readonly url: string;
  /** stdout and stderr chunks as they arrived. */
  readonly output: string[];
  readonly exited: Promise<number | null>;
}

/** Starts `serve` in a child process (runServe through tsx, as the CLI would) and waits until it listens. */
export async function startServe(configFile: string, env: Record<string, string>): Promise<Served> {
  const script = `const m = await import('./src/daemon/index.ts'); await m.runServe({ configFile: ${JSON.stringify(configFile)} });`;
  const proc = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: ROOT,
    env: { ...process.env, ADVISOR_API_PORT: '0', ADVISOR_API_TOKEN: TOKEN, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve did not listen in 60 s:\n${output.join('')}`)), 60_000);
    const onData = (chunk: Buffer) => {
      output.push(chunk.toString());
      const m = /"url":"(http:[^"]+)"[^\n]*pg-advisor daemon listening/.exec(output.join(''));
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    };
    proc.stdout!.on('data', onData);
    proc.stderr!.on('data', onData);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`serve exited with ${code}:\n${output.join('')}`));
    });
  });
  return { proc, url, output, exited };
}

/** SIGKILLs the children that are still running. */
export function killServed(children: readonly Served[]): void {
  for (const c of children) if (c.proc.exitCode === null && c.proc.signalCode === null) c.proc.kill('SIGKILL');
}

/** GET `path` from the served API with the admin token; throws on a non-2xx answer. */
export async function api<T>(served: Served, path: string): Promise<T> {
  const res = await fetch(`${served.url}${path}`, { headers: authHeaders });
  if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

export interface UntilOptions {
  /** Default 60 s. */
  readonly timeoutMs?: number;
  /** Pause between probes; default 500 ms. */
  readonly intervalMs?: number;
  /** What was last seen, for the timeout message. */
  readonly lastSeen?: () => string;
}

/**
 * Probes until it returns a truthy value, which is returned; a probe that throws counts as "not yet".
 * Fails with `what`, the last error and `lastSeen()` after the timeout.
 */
export async function until<T>(
  what: string,
  probe: () => Promise<T | undefined | null | false> | T | undefined | null | false,
  { timeoutMs = 60_000, intervalMs = 500, lastSeen }: UntilOptions = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value) return value;
    } catch (error) {
      last = error;
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  const seen = lastSeen ? `; last seen: ${lastSeen()}` : '';
  throw new Error(`timed out waiting for ${what}${last ? ` (last error: ${String(last)})` : ''}${seen}`);
}

// Child processes for the harness: short commands that must succeed, and long-lived process groups
// that are killed whole (code-server starts an extension host and watchers) even when a test fails,
// times out or the runner is interrupted.
import { spawn } from 'node:child_process';
import { closeSync, openSync, rmSync } from 'node:fs';

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion; throws with its output when it fails. */
export function run(
  cmd: string,
  args: string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<RunResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 300_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const result = { code: code ?? -1, stdout, stderr };
      if (code === 0) resolvePromise(result);
      else reject(new Error(`${cmd} ${args.join(' ')} failed (${code ?? signal}):\n${stderr.slice(-4000)}${stdout.slice(-2000)}`));
    });
  });
}

const liveGroups = new Set<number>();
const scratchDirs = new Set<string>();

/** A folder to delete when the process ends, even interrupted; returns a function that deletes it now. */
export function scratchDir(dir: string): () => void {
  scratchDirs.add(dir);
  return () => {
    rmSync(dir, { recursive: true, force: true });
    scratchDirs.delete(dir);
  };
}

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // Already gone.
  }
}

// Last resort for what a failed test never cleaned up: the runner exits or is interrupted.
process.on('exit', () => {
  liveGroups.forEach((pid) => killGroup(pid, 'SIGKILL'));
  scratchDirs.forEach((dir) => rmSync(dir, { recursive: true, force: true }));
});
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => process.exit(128 + (sig === 'SIGINT' ? 2 : 15)));

export interface ProcessGroup {
  exited: Promise<number | null>;
  stop(): Promise<void>;
}

/** Starts a command as the leader of a new process group, its output appended to logFile. */
export function spawnGroup(cmd: string, args: string[], opts: { env: NodeJS.ProcessEnv; logFile: string }): ProcessGroup {
  const fd = openSync(opts.logFile, 'a');
  const child = spawn(cmd, args, { env: opts.env, detached: true, stdio: ['ignore', fd, fd] });
  closeSync(fd);
  const pid = child.pid;
  if (pid === undefined) throw new Error(`could not start ${cmd}`);
  liveGroups.add(pid);
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return {
    exited,
    async stop() {
      killGroup(pid, 'SIGTERM');
      const timedOut = await Promise.race([exited.then(() => false), delay(5000).then(() => true)]);
      // The leader may be gone while its children linger: always finish the group.
      killGroup(pid, 'SIGKILL');
      if (timedOut) await exited;
      liveGroups.delete(pid);
    },
  };
}

export function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms).unref());
}

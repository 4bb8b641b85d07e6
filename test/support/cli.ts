import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { repoRoot } from './helpers.js';

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** A CLI child process still running, and what it will have printed when it ends (`signal`: what killed it). */
export interface CliRun {
  child: ChildProcess;
  done: Promise<CliResult & { signal: NodeJS.Signals | null }>;
}

/**
 * Start the real CLI (bin/clip-bench) as a child process, for tests that signal it or watch it while it runs.
 * It is killed after 180 s, so that a hung child cannot hang the test run.
 */
export function spawnCli(args: string[], env: NodeJS.ProcessEnv = {}, cwd = repoRoot): CliRun {
  const child = spawn(process.execPath, [path.join(repoRoot, 'bin', 'clip-bench'), ...args], {
    cwd,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const timer = setTimeout(() => child.kill('SIGKILL'), 180_000);
  const done = new Promise<CliResult & { signal: NodeJS.Signals | null }>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (status, signal) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr, signal });
    });
  });
  return { child, done };
}

/**
 * Run the real CLI as a child process to its end. Asynchronous, so that a server in the test process (a local hub
 * or dataset mirror) can answer it.
 */
export async function runCli(args: string[], env: NodeJS.ProcessEnv = {}, cwd = repoRoot): Promise<CliResult> {
  const { status, stdout, stderr } = await spawnCli(args, env, cwd).done;
  return { status, stdout, stderr };
}

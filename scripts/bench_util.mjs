// What the benchmark scripts share: the median, taskset, running a child process with its output collected, and
// reading the JSON line a child prints last.
import { spawn, spawnSync } from 'node:child_process';

/** Whether `taskset` (util-linux) is there to pin processes to cores. */
export const hasTaskset = spawnSync('sh', ['-c', 'command -v taskset']).status === 0;

/** The last line of a child's output, parsed as JSON. */
export const lastJson = (s) => JSON.parse(s.trim().split('\n').pop());

/** The median (the mean of the two middle values for an even count). */
export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/**
 * Runs `cmd argv` with `env` added to this process's environment; resolves to { out, err, wall } (wall seconds)
 * when it exits 0, rejects naming `what` (default: the command line) and the end of its stderr otherwise.
 */
export function runProcess(cmd, argv, { env = {}, what = `${cmd} ${argv.join(' ')}` } = {}) {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(cmd, argv, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('error', reject);
    child.on('close', (code) => {
      const wall = (performance.now() - started) / 1000;
      if (code === 0) resolve({ out, err, wall });
      else reject(new Error(`${what} exited with ${code}:\n${err.slice(-3000)}`));
    });
  });
}

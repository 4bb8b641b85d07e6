import cliProgress from 'cli-progress';

const mb = (b: number): string => (b / 1e6).toFixed(b < 1e7 ? 2 : 1);

/**
 * Download progress in bytes on stderr: one cli-progress bar per file on a terminal; elsewhere (logs, CI) a line
 * when a file starts, every 10% (at most every few seconds) and when it ends.
 */
export function byteProgress(stream: NodeJS.WriteStream = process.stderr): (file: string, done: number, total: number | undefined) => void {
  let current: string | null = null;
  let bar: cliProgress.SingleBar | null = null;
  let lastLine = 0;
  let lastPct = -1;
  return (file, done, total) => {
    if (file !== current) {
      bar?.stop();
      bar = null;
      current = file;
      lastPct = -1;
      lastLine = 0;
      if (stream.isTTY && total) {
        bar = new cliProgress.SingleBar(
          { format: `downloading ${file} {bar} {done}/{size} MB | {speed} MB/s`, stream, hideCursor: true, fps: 5, clearOnComplete: false },
          cliProgress.Presets.shades_classic,
        );
        bar.start(total, 0, { done: mb(0), size: mb(total), speed: '-' });
        (bar as unknown as { started: number }).started = Date.now();
      }
    }
    if (bar) {
      const secs = (Date.now() - (bar as unknown as { started: number }).started) / 1000;
      bar.update(done, { done: mb(done), speed: secs > 0 ? mb(done / secs) : '-' });
      if (total !== undefined && done >= total) {
        bar.stop();
        bar = null;
      }
      return;
    }
    const pct = total ? Math.floor((done / total) * 10) * 10 : -1;
    const now = Date.now();
    const finished = total !== undefined && done >= total;
    if (finished || lastLine === 0 || (pct > lastPct && now - lastLine > 3000)) {
      stream.write(`downloading ${file}: ${mb(done)}${total ? ` of ${mb(total)}` : ''} MB${finished ? ', done' : ''}\n`);
      lastLine = now;
      lastPct = pct;
    }
  };
}

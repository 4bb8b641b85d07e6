import cliProgress from 'cli-progress';

const mb = (b: number): string => (b / 1e6).toFixed(b < 1e7 ? 2 : 1);

interface FileState {
  bar?: cliProgress.SingleBar;
  started: number;
  lastLine: number;
  lastPct: number;
}

/**
 * Download progress in bytes on stderr, for one or several files at once: on a terminal a cli-progress bar per file
 * being fetched (removed when it is done); elsewhere (logs, CI) a line when a file starts, every 10% (at most every
 * few seconds) and when it ends. `done` = -1 says the file's download failed.
 */
export function byteProgress(stream: NodeJS.WriteStream = process.stderr): (file: string, done: number, total: number | undefined) => void {
  const active = new Map<string, FileState>();
  let multi: cliProgress.MultiBar | null = null;
  return (file, done, total) => {
    const now = Date.now();
    let st = active.get(file);
    if (done < 0) {
      // the download failed: its bar goes (the error is reported by whoever handles it)
      if (st?.bar) multi?.remove(st.bar);
      active.delete(file);
      if (multi && ![...active.values()].some((s) => s.bar)) {
        multi.stop();
        multi = null;
      }
      return;
    }
    if (!st) {
      st = { started: now, lastLine: 0, lastPct: -1 };
      active.set(file, st);
      if (stream.isTTY && total) {
        multi ??= new cliProgress.MultiBar(
          { format: 'downloading {file} {bar} {done}/{size} MB | {speed} MB/s', stream, hideCursor: true, fps: 5, clearOnComplete: true },
          cliProgress.Presets.shades_classic,
        );
        st.bar = multi.create(total, 0, { file, done: mb(0), size: mb(total), speed: '-' });
      }
    }
    const finished = total !== undefined && done >= total;
    if (st.bar) {
      const secs = (now - st.started) / 1000;
      st.bar.update(done, { file, done: mb(done), size: mb(total ?? done), speed: secs > 0 ? mb(done / secs) : '-' });
    } else {
      const pct = total ? Math.floor((done / total) * 10) * 10 : -1;
      if (finished || st.lastLine === 0 || (pct > st.lastPct && now - st.lastLine > 3000)) {
        stream.write(`downloading ${file}: ${mb(done)}${total ? ` of ${mb(total)}` : ''} MB${finished ? ', done' : ''}\n`);
        st.lastLine = now;
        st.lastPct = pct;
      }
    }
    if (finished) {
      if (st.bar) multi!.remove(st.bar);
      active.delete(file);
      if (multi && ![...active.values()].some((s) => s.bar)) {
        multi.stop();
        multi = null;
      }
    }
  };
}

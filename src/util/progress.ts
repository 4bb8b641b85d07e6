import cliProgress from 'cli-progress';
import { startBar, type Bar } from './bars.js';

const mb = (b: number): string => (b / 1e6).toFixed(b < 1e7 ? 2 : 1);

interface FileState {
  bar?: cliProgress.SingleBar;
  started: number;
  /** bytes already there when this download started (a resumed one) */
  base: number;
  lastLine: number;
  lastPct: number;
}

/**
 * Download progress in bytes on stderr, for one or several files at once: on a terminal a cli-progress bar per file
 * being fetched (removed when it is done); elsewhere (logs, CI) a line when a file starts, every 10% (at most every
 * few seconds) and when it ends. `done` = -1 says the file's download failed. A resumed download (`resumedAt` > 0)
 * starts from there and says "resuming at X MB"; its speed counts only the bytes of this run.
 */
export function byteProgress(stream: NodeJS.WriteStream = process.stderr): (file: string, done: number, total: number | undefined, resumedAt?: number) => void {
  const active = new Map<string, FileState>();
  let multi: cliProgress.MultiBar | null = null;
  return (file, done, total, resumedAt = 0) => {
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
      st = { started: now, base: resumedAt, lastLine: 0, lastPct: -1 };
      active.set(file, st);
      const resuming = resumedAt > 0 ? `downloading ${file}: resuming at ${mb(resumedAt)}${total ? ` of ${mb(total)}` : ''} MB` : null;
      if (stream.isTTY && total) {
        multi ??= new cliProgress.MultiBar(
          { format: 'downloading {file} {bar} {done}/{size} MB | {speed} MB/s', stream, hideCursor: true, fps: 5, clearOnComplete: true },
          cliProgress.Presets.shades_classic,
        );
        if (resuming) multi.log(`${resuming}\n`);
        st.bar = multi.create(total, resumedAt, { file, done: mb(resumedAt), size: mb(total), speed: '-' });
      } else if (resuming) {
        stream.write(`${resuming}\n`);
        st.lastLine = now;
      }
    }
    const finished = total !== undefined && done >= total;
    if (st.bar) {
      const secs = (now - st.started) / 1000;
      st.bar.update(done, { file, done: mb(done), size: mb(total ?? done), speed: secs > 0 ? mb((done - st.base) / secs) : '-' });
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

/** Seconds between progress lines where stderr is not a terminal (CI and Slurm logs): $CLIP_BENCH_PROGRESS_SECONDS, else 10. */
export const LOG_PROGRESS_SECONDS = ((v) => (Number.isFinite(v) && v > 0 ? v : 10))(Number(process.env.CLIP_BENCH_PROGRESS_SECONDS));

/** `45s`, `9m45s`, `2h05m`: a duration as progress lines print it. */
export const formatSeconds = (s: number): string => {
  if (!Number.isFinite(s)) return '?';
  const t = Math.round(s);
  return t >= 3600 ? `${Math.floor(t / 3600)}h${String(Math.floor((t % 3600) / 60)).padStart(2, '0')}m` : t >= 60 ? `${Math.floor(t / 60)}m${String(t % 60).padStart(2, '0')}s` : `${t}s`;
};

export interface CountProgress {
  /** `done` of the total are finished */
  update(done: number): void;
  stop(): void;
}

/**
 * Progress of `total` items of work on stderr, shown only once the work has taken `afterSeconds` (quick work
 * prints nothing): on a terminal a bar with rate and ETA; elsewhere a line every LOG_PROGRESS_SECONDS,
 * `<what>: 4000/80000 (5%), 130/s, ETA 9m45s`, and one when it ends.
 */
export function countProgress(what: string, unit: string, total: number, opts: { afterSeconds?: number; enabled?: boolean; finalLine?: boolean } = {}): CountProgress {
  const started = Date.now();
  const after = (opts.afterSeconds ?? Math.min(2, LOG_PROGRESS_SECONDS)) * 1000;
  let bar: Bar | null = null;
  let shown = false;
  let lastLine = 0;
  let lastDone = 0;
  if (opts.enabled === false) return { update: () => {}, stop: () => {} };
  const line = (done: number, end: boolean) => {
    const secs = (Date.now() - started) / 1000;
    const rate = done / Math.max(secs, 1e-3);
    const tail = end ? `done in ${formatSeconds(secs)}` : `ETA ${formatSeconds((total - done) / rate)}`;
    process.stderr.write(`${what}: ${done}/${total} ${unit} (${Math.floor((100 * done) / total)}%), ${rate.toFixed(rate < 10 ? 1 : 0)} ${unit}/s, ${tail}\n`);
    lastLine = Date.now();
  };
  return {
    update(done) {
      lastDone = done;
      const now = Date.now();
      if (!shown && now - started < after) return;
      if (process.stderr.isTTY) {
        if (!bar) bar = startBar(`${what} {bar} {value}/{total} ${unit} | ETA {eta_formatted}`, total, 0, {});
        bar.increment(done - Math.round(bar.getProgress() * total));
      } else if (!shown || now - lastLine >= LOG_PROGRESS_SECONDS * 1000) line(done, false);
      shown = true;
    },
    stop() {
      bar?.stop();
      if (shown && !process.stderr.isTTY && opts.finalLine !== false) line(lastDone, true);
    },
  };
}

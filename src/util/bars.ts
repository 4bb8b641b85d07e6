import cliProgress from 'cli-progress';

/** What a progress bar needs from its caller. */
export interface Bar {
  increment(step?: number, payload?: object): void;
  getProgress(): number;
  stop(): void;
}

let host: cliProgress.MultiBar | null = null;

/**
 * While a MultiBar is the host (`clip-bench suite`: its overall bar on top), progress bars are drawn as its rows
 * instead of on their own, so that the per-step bars appear under the overall one.
 */
export function setBarHost(multi: cliProgress.MultiBar | null): void {
  host = multi;
}

/** A progress bar on stderr (in the host when there is one), started at `done` of `total`. */
export function startBar(format: string, total: number, done: number, payload: object): Bar {
  const options: cliProgress.Options = { format, stream: process.stderr, hideCursor: true, etaBuffer: 50, fps: 5 };
  const multi = host;
  if (multi) {
    const bar = multi.create(total, done, payload, options);
    return { increment: (s, p) => bar.increment(s ?? 1, p), getProgress: () => bar.getProgress(), stop: () => multi.remove(bar) };
  }
  const bar = new cliProgress.SingleBar(options, cliProgress.Presets.shades_classic);
  bar.start(total, done, payload);
  return bar;
}

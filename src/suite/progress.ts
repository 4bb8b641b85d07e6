import cliProgress from 'cli-progress';
import { setBarHost } from '../util/bars.js';

const secs = (ms: number): string => {
  const s = Math.round(ms / 1000);
  return s < 90 ? `${s}s` : s < 5400 ? `${Math.round(s / 60)}m` : `${(s / 3600).toFixed(1)}h`;
};

/**
 * The suite's overall progress (model x dataset x task steps, with an ETA from the steps computed so far): on a
 * terminal a bar above the per-step bars, and always one log line per finished step on stderr.
 */
export class SuiteProgress {
  private done = 0;
  private computed = 0;
  private computeMs = 0;
  private readonly multi: cliProgress.MultiBar | null;
  private readonly overall: cliProgress.SingleBar | null;
  /** when the running step started (0: none), and the timer that moves the ETA while it runs */
  private stepStarted = 0;
  private ticker: NodeJS.Timeout | null = null;

  constructor(
    private readonly total: number,
    enabled: boolean,
  ) {
    this.multi =
      enabled && process.stderr.isTTY
        ? new cliProgress.MultiBar({ stream: process.stderr, hideCursor: true, fps: 5, clearOnComplete: false, format: 'suite {bar} {value}/{total} steps | ETA {eta_text} | {step}' }, cliProgress.Presets.shades_classic)
        : null;
    this.overall = this.multi ? this.multi.create(total, 0, { eta_text: '-', step: '' }) : null;
    setBarHost(this.multi);
  }

  /**
   * The ETA: the mean time of the steps computed so far times the steps left (reused steps take no time), less
   * what the running step has already taken of its share, so that it moves during a long step.
   */
  private eta(): string {
    if (this.computed === 0) return '-';
    const mean = this.computeMs / this.computed;
    const running = this.stepStarted ? Math.min(Date.now() - this.stepStarted, mean) : 0;
    return secs(mean * (this.total - this.done) - running);
  }

  /** A step starts. */
  start(label: string): void {
    this.stepStarted = Date.now();
    this.overall?.update(this.done, { eta_text: this.eta(), step: label });
    if (this.overall && !this.ticker) {
      this.ticker = setInterval(() => this.overall?.update(this.done, { eta_text: this.eta() }), 1000);
      this.ticker.unref();
    }
  }

  /** A step ended: `computed` when it did work (its time counts towards the ETA), else reused, skipped or failed. */
  finish(label: string, outcome: string, ms: number, computed: boolean): void {
    this.done++;
    this.stepStarted = 0;
    if (computed) {
      this.computed++;
      this.computeMs += ms;
    }
    const line = `suite [${this.done}/${this.total}] ${label}: ${outcome}${computed ? ` in ${secs(ms)}` : ''}${this.done < this.total ? ` (ETA ${this.eta()})` : ''}`;
    if (this.multi) this.multi.log(`${line}\n`);
    else process.stderr.write(`${line}\n`);
    this.overall?.update(this.done, { eta_text: this.eta(), step: '' });
  }

  stop(): void {
    if (this.ticker) clearInterval(this.ticker);
    this.ticker = null;
    setBarHost(null);
    this.multi?.stop();
  }
}

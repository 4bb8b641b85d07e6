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

  /** The ETA: the mean time of the steps computed so far times the steps left (reused steps take no time). */
  private eta(): string {
    if (this.computed === 0) return '-';
    return secs((this.computeMs / this.computed) * (this.total - this.done));
  }

  /** A step starts. */
  start(label: string): void {
    this.overall?.update(this.done, { eta_text: this.eta(), step: label });
  }

  /** A step ended: `computed` when it did work (its time counts towards the ETA), else reused, skipped or failed. */
  finish(label: string, outcome: string, ms: number, computed: boolean): void {
    this.done++;
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
    setBarHost(null);
    this.multi?.stop();
  }
}

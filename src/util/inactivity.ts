/**
 * An abort signal that fires when `ms` pass without `touch()`: a request waits this long for its answer, then this
 * long for each next chunk of its body, however long the whole transfer takes. `waitingFor` names what was awaited
 * when it fired, for the message.
 */
export class InactivityTimer {
  private readonly controller = new AbortController();
  private timer: NodeJS.Timeout | undefined;
  waitingFor = '';

  constructor(readonly ms: number) {}

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  get fired(): boolean {
    return this.controller.signal.aborted;
  }

  /** (Re)start the clock; `what` is what is awaited from now on. */
  touch(what?: string): void {
    if (what !== undefined) this.waitingFor = what;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.controller.abort(), this.ms);
  }

  stop(): void {
    clearTimeout(this.timer);
  }

  /** `12 s` or `0.5 s` */
  get seconds(): string {
    return `${this.ms / 1000} s`;
  }
}

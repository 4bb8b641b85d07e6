/** An error the user caused (bad flag, bad file): the CLI prints its one-line message and exits with code 2. */
export class UserError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UserError';
  }
}

/**
 * A dataset's files are not here and cannot be fetched now (user-provided data not in place, downloads off, the hub
 * unreachable or offline without a cached copy). A UserError (exit 2) for a command; `suite` skips and lists the dataset.
 */
export class DatasetUnavailable extends UserError {
  constructor(message: string) {
    super(message);
    this.name = 'DatasetUnavailable';
  }
}

/**
 * A download that did not complete: the server unreachable or silent, an HTTP error, a transfer interrupted or
 * stalled after its retries, a corrupt body. Always a failure (a suite's step fails, exit 1): only a source that does
 * not have the data is a DatasetUnavailable.
 */
export class TransferFailed extends UserError {
  constructor(message: string) {
    super(message);
    this.name = 'TransferFailed';
  }
}

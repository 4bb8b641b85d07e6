/** An error the user caused (bad flag, bad file): the CLI prints its one-line message and exits with code 2. */
export class UserError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UserError';
  }
}

// Stand-in for bin/clip-bench while src/cli/commands.ts does not register `report`/`regress` yet:
// the same exit-code contract as src/cli/main.ts (0 ok, 1 internal error / regression, 2 user error).
import { Command, CommanderError } from 'commander';
import { UserError } from '../../dist/src/errors.js';
import { register as report } from '../../dist/src/cli/report.js';
import { register as regress } from '../../dist/src/cli/regress.js';

const program = new Command('clip-bench').exitOverride();
report(program);
regress(program);
try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) process.exitCode = err.code.startsWith('commander.help') ? 0 : 2;
  else if (err instanceof UserError) {
    process.stderr.write(`clip-bench: ${err.message}\n`);
    process.exitCode = 2;
  } else {
    process.stderr.write(`clip-bench: internal error: ${err?.message ?? err}\n`);
    process.exitCode = 1;
  }
}

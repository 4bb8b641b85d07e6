import { Command, CommanderError } from 'commander';
import { UserError } from '../errors.js';
import { toolVersion } from '../version.js';
import { userFsErrorText } from '../util/fs.js';
import { registerCommands } from './commands.js';
import { polishHelp } from './help.js';

/** Entry point: exit 0 on success, 2 on bad usage or input (one line on stderr), 1 on an internal error. */
export async function main(argv: string[]): Promise<void> {
  // `clip-bench datasets | head`: the reader left; stop quietly as other command-line tools do
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE') process.exit(0);
      throw err;
    });
  }
  const program = new Command('clip-bench')
    .description("Replicate the CLIP paper's zero-shot, linear-probe and few-shot evaluations for ONNX CLIP models")
    .version(toolVersion())
    .option('--verbose', 'print stack traces for errors')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  await registerCommands(program, argv);
  polishHelp(program);
  try {
    await program.parseAsync(argv);
  } catch (err) {
    // bare `clip-bench` is a usage error (help on stderr, exit 2), as git and npm exit non-zero without a command
    const bare = argv.slice(2).every((a) => a === '--verbose');
    process.exitCode = bare && err instanceof CommanderError ? 2 : exitCodeFor(err, argv.includes('--verbose'));
  }
}

function exitCodeFor(err: unknown, verbose: boolean): number {
  if (err instanceof CommanderError) {
    // help and version "errors" are successes; commander already printed the usage message
    return err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help' ? 0 : 2;
  }
  if (err instanceof UserError) {
    process.stderr.write(`clip-bench: ${err.message}\n`);
    if (verbose) process.stderr.write(`${err.stack}\n`);
    return 2;
  }
  const e = err as NodeJS.ErrnoException;
  const fsText = userFsErrorText(e?.code);
  if (fsText) {
    // a full disk or a forbidden path reached here without a file name attached: still the user's to fix
    process.stderr.write(`clip-bench: ${e.path ? `${e.path}: ` : ''}${fsText} (${e.code}${e.syscall ? `, ${e.syscall}` : ''})\n`);
    if (verbose) process.stderr.write(`${e.stack}\n`);
    return 2;
  }
  process.stderr.write(`clip-bench: internal error: ${e?.message ?? String(err)}\n`);
  if (verbose) process.stderr.write(`${e?.stack}\n`);
  else process.stderr.write('(run with --verbose for the stack trace)\n');
  return 1;
}

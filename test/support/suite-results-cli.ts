// For scripts/slurm/ci_test.sh (after `npm test` built dist/):
//   node dist/test/support/suite-results-cli.js args                 prints SMALL_SUITE, one per line
//   node dist/test/support/suite-results-cli.js packages CACHE_HOME  writes the suite's tiny packages there
//   node dist/test/support/suite-results-cli.js diff EXPECTED ACTUAL  exits 1 with the differences, 0 when equal
import { diffResults, SMALL_SUITE, writeSuitePackages } from './suite-results.js';

const [cmd, a, b] = process.argv.slice(2);
if (cmd === 'args') process.stdout.write(`${SMALL_SUITE.join('\n')}\n`);
else if (cmd === 'packages' && a) await writeSuitePackages(a);
else if (cmd === 'diff' && a && b) {
  const d = diffResults(a, b);
  for (const line of d) process.stderr.write(`${line}\n`);
  process.exitCode = d.length > 0 ? 1 : 0;
} else {
  process.stderr.write('usage: suite-results-cli.js args | packages CACHE_HOME | diff EXPECTED ACTUAL\n');
  process.exitCode = 2;
}

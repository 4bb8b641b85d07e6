/**
 * The result tables' public face: descriptors (src/results/tables/), schema (schema.ts), the one writer
 * (write.ts), reading (read.ts) and terminal tables (format.ts), re-exported for commands, report and tests.
 */
import { columnsOf } from './schema.js';

export * from './tables/index.js';
export * from './schema.js';
export { parseResultsCsv, parseResultsJson, readResults, readResultsFile, tableForColumns } from './read.js';
export { resultsLockFile, writeResults } from './write.js';
export { formatResultsTable } from './format.js';
export { formatTable } from '../util/text-table.js';

export const ZEROSHOT_COLUMNS = columnsOf('zeroshot');
export const LINEAR_PROBE_COLUMNS = columnsOf('linear_probe');
export const FEWSHOT_COLUMNS = columnsOf('fewshot');

/**
 * The embedding cache's storage layer, in three parts: reading complete entries (read.ts), the resumable writer
 * (writer.ts) and entry management (manage.ts); the on-disk format they share is entry-format.ts.
 */
export { CACHE_FORMAT, CHUNKS_DIR, EMBEDDINGS_FILE, LABELS_FILE, LAYOUT_FILE, META_FILE } from './entry-format.js';
export type { CacheMeta, LoadedEntry, LoadOptions, RowRange, SkippedImage, WarnFn } from './entry-format.js';
export { isEntryComplete, loadEntry } from './read.js';
export { openWriter } from './open-writer.js';
export type { CacheWriter, ChunkInfo, FinishMeta, WriterOptions } from './writer.js';
export { finishEntry } from './assemble.js';
export type { FinishResult } from './assemble.js';
export { listEntries, matchesFilter, removeEntries } from './manage.js';
export type { CacheEntryRow, RemoveFilter, RemoveResult } from './manage.js';

import { createHash } from 'node:crypto';
import fsp from 'node:fs/promises';
import { Header, Pax } from 'tar';

/** A regular file inside a tar archive: where its bytes are. */
export interface TarMember {
  name: string;
  /** byte offset of the member's data in the archive */
  offset: number;
  size: number;
}

export class TarFormatError extends Error {}

const BLOCK = 512;
const CHUNK = 1 << 20;
const FILE_TYPES = new Set(['File', 'OldFile', 'ContiguousFile']);

/**
 * A sequential reader over a file that hashes every byte it passes (so a scan yields the file's sha256 too) and
 * keeps the bytes from the last requested position on, so that headers and small members can be looked at.
 */
class HashingWindow {
  private buf = Buffer.alloc(0);
  private start = 0; // file position of buf[0]
  private readPos = 0;
  readonly hash = createHash('sha256');
  constructor(
    private readonly fh: fsp.FileHandle,
    readonly size: number,
  ) {}

  /** bytes [pos, pos+len) (pos never goes backwards), or null when the file ends before pos+len */
  async get(pos: number, len: number): Promise<Buffer | null> {
    if (pos + len > this.size) return null;
    if (pos > this.start + this.buf.length) {
      // everything before pos is skipped, but still read for the hash
      this.buf = Buffer.alloc(0);
      this.start = this.readPos;
      while (this.readPos < pos) await this.readChunk(Math.min(CHUNK, pos - this.readPos), true);
      this.start = pos;
    } else {
      this.buf = this.buf.subarray(pos - this.start);
      this.start = pos;
    }
    while (this.buf.length < len) await this.readChunk(Math.max(CHUNK, len - this.buf.length), false);
    return this.buf.subarray(0, len);
  }

  /** hash whatever is left of the file */
  async finish(): Promise<string> {
    while (this.readPos < this.size) await this.readChunk(Math.min(CHUNK, this.size - this.readPos), true);
    return this.hash.digest('hex');
  }

  private async readChunk(want: number, discard: boolean): Promise<void> {
    want = Math.min(want, this.size - this.readPos);
    const chunk = Buffer.allocUnsafe(want);
    let got = 0;
    while (got < want) {
      const { bytesRead } = await this.fh.read(chunk, got, want - got, this.readPos + got);
      if (bytesRead === 0) throw new TarFormatError(`file shrank while being read (at byte ${this.readPos + got})`);
      got += bytesRead;
    }
    this.hash.update(chunk);
    this.readPos += want;
    if (!discard) this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
  }
}

const isZero = (b: Buffer): boolean => b.every((x) => x === 0);
const cString = (b: Buffer): string => {
  const nul = b.indexOf(0);
  return b.subarray(0, nul < 0 ? b.length : nul).toString('utf8');
};

/**
 * One pass over an uncompressed tar: every regular file with its data offset, and the archive's sha256.
 * PAX `x` (next member) and `g` (all later members) records override the ustar fields, as POSIX says; GNU `L`/`K`
 * long names too. Directories, links and other non-file entries are skipped. `wantData(name)` asks for a member's
 * bytes (small label files), handed to `onData`. A truncated archive (a member running past the end, a partial
 * header, no end-of-archive block) or a bad header checksum is a TarFormatError naming the member or offset.
 */
export async function scanTar(
  file: string,
  opts: { wantData?: (name: string) => boolean; onData?: (member: TarMember, data: Buffer) => void } = {},
): Promise<{ members: TarMember[]; sha256: string }> {
  const fh = await fsp.open(file, 'r');
  try {
    const size = (await fh.stat()).size;
    const win = new HashingWindow(fh, size);
    const members: TarMember[] = [];
    let pos = 0;
    let ex: Pax | undefined;
    let gex: Pax | undefined;
    let longPath: string | undefined;
    let last = 'the start of the archive';
    for (;;) {
      const block = await win.get(pos, BLOCK);
      if (!block) throw new TarFormatError(`truncated after ${last} (no end-of-archive block at byte ${pos} of ${size})`);
      if (isZero(block)) break;
      const h = new Header(Buffer.from(block));
      if (!h.cksumValid) throw new TarFormatError(`bad tar header checksum at byte ${pos} (after ${last})`);
      const dataPos = pos + BLOCK;
      const type = h.type as string;
      const isFile = FILE_TYPES.has(type);
      const name = isFile ? ex?.path ?? longPath ?? h.path ?? '' : (h.path ?? '');
      const memberSize = (isFile || type === 'GNUDumpDir' ? ex?.size ?? gex?.size : undefined) ?? h.size ?? 0;
      if (dataPos + memberSize > size) {
        throw new TarFormatError(`truncated in ${name || `the entry at byte ${pos}`} (${memberSize} bytes at byte ${dataPos}, file has ${size})`);
      }
      const meta = type === 'ExtendedHeader' || type === 'GlobalExtendedHeader' || type === 'NextFileHasLongPath' || type === 'NextFileHasLongLinkpath';
      if (meta) {
        const data = (await win.get(dataPos, memberSize))!;
        if (type === 'ExtendedHeader') ex = Pax.parse(data.toString('utf8'), ex, false);
        else if (type === 'GlobalExtendedHeader') gex = Pax.parse(data.toString('utf8'), gex, true);
        else if (type === 'NextFileHasLongPath') longPath = cString(data);
        // K (long link name) only concerns links, which are skipped
      } else {
        if (isFile) {
          const m = { name, offset: dataPos, size: memberSize };
          members.push(m);
          if (opts.wantData?.(name)) opts.onData?.(m, Buffer.from((await win.get(dataPos, memberSize))!));
        }
        last = name || `the entry at byte ${pos}`;
        ex = undefined;
        longPath = undefined;
      }
      pos = dataPos + Math.ceil(memberSize / BLOCK) * BLOCK;
    }
    return { members, sha256: await win.finish() };
  } finally {
    await fh.close();
  }
}

/**
 * CLIP's byte-level BPE tokenizer: a port of OpenAI's clip/simple_tokenizer.py (SimpleTokenizer.encode)
 * and clip.tokenize(truncate=True).
 *
 * Text cleaning follows simple_tokenizer.py: ftfy.fix_text, html.unescape twice, whitespace collapse +
 * strip, lower-case. Of ftfy 6.3 fix_text we implement the deterministic fixers, in ftfy's order and
 * repeated until stable, per line segment: unescape_html (only while no '<' has been seen),
 * fix_c1_controls, fix_latin_ligatures, fix_character_width, uncurl_quotes, remove_terminal_escapes,
 * remove_control_chars, NFC. Not implemented: fix_encoding (mojibake repair) and its helpers
 * restore_byte_a0 / replace_lossy_sequences / decode_inconsistent_utf8, and fix_line_breaks /
 * fix_surrogates (no effect here: line breaks become spaces, TextEncoder turns lone surrogates into
 * U+FFFD as ftfy does). HTML entities: the HTML4 set + &apos; (+ the legacy forms without ';'),
 * not all 2,231 HTML5 names.
 */
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { UserError } from '../errors.js';

const SOT = '<|startoftext|>';
const EOT = '<|endoftext|>';
/** simple_tokenizer.py uses merges lines 2..48895 of the OpenAI file. */
const N_MERGES = 49152 - 256 - 2;

/** bytes_to_unicode(): byte -> printable char, in the order simple_tokenizer.py builds its vocab. */
const BYTE_ORDER: number[] = [];
const BYTE_CHAR: string[] = new Array(256);
{
  const printable = (b: number) => (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
  for (let b = 0; b < 256; b++) if (printable(b)) { BYTE_ORDER.push(b); BYTE_CHAR[b] = String.fromCharCode(b); }
  let n = 0;
  for (let b = 0; b < 256; b++) if (!printable(b)) { BYTE_ORDER.push(b); BYTE_CHAR[b] = String.fromCharCode(256 + n++); }
}

// ---- HTML entities (Python's html.unescape, with a compact table) ----

/** names of U+00A0..U+00FF in order; these (plus amp lt gt quot AMP LT GT QUOT COPY REG) also work without ';' */
const LATIN1 =
  'nbsp iexcl cent pound curren yen brvbar sect uml copy ordf laquo not shy reg macr deg plusmn sup2 sup3 acute ' +
  'micro para middot cedil sup1 ordm raquo frac14 frac12 frac34 iquest Agrave Aacute Acirc Atilde Auml Aring AElig ' +
  'Ccedil Egrave Eacute Ecirc Euml Igrave Iacute Icirc Iuml ETH Ntilde Ograve Oacute Ocirc Otilde Ouml times Oslash ' +
  'Ugrave Uacute Ucirc Uuml Yacute THORN szlig agrave aacute acirc atilde auml aring aelig ccedil egrave eacute ecirc ' +
  'euml igrave iacute icirc iuml eth ntilde ograve oacute ocirc otilde ouml divide oslash ugrave uacute ucirc uuml ' +
  'yacute thorn yuml';
/** the rest of HTML4 + apos, name:hex (lang/rang as HTML5 and Python define them) */
const OTHER =
  'quot:22 amp:26 apos:27 lt:3c gt:3e OElig:152 oelig:153 Scaron:160 scaron:161 Yuml:178 fnof:192 circ:2c6 ' +
  'tilde:2dc Alpha:391 Beta:392 Gamma:393 Delta:394 Epsilon:395 Zeta:396 Eta:397 Theta:398 Iota:399 Kappa:39a ' +
  'Lambda:39b Mu:39c Nu:39d Xi:39e Omicron:39f Pi:3a0 Rho:3a1 Sigma:3a3 Tau:3a4 Upsilon:3a5 Phi:3a6 Chi:3a7 ' +
  'Psi:3a8 Omega:3a9 alpha:3b1 beta:3b2 gamma:3b3 delta:3b4 epsilon:3b5 zeta:3b6 eta:3b7 theta:3b8 iota:3b9 ' +
  'kappa:3ba lambda:3bb mu:3bc nu:3bd xi:3be omicron:3bf pi:3c0 rho:3c1 sigmaf:3c2 sigma:3c3 tau:3c4 upsilon:3c5 ' +
  'phi:3c6 chi:3c7 psi:3c8 omega:3c9 thetasym:3d1 upsih:3d2 piv:3d6 ensp:2002 emsp:2003 thinsp:2009 zwnj:200c ' +
  'zwj:200d lrm:200e rlm:200f ndash:2013 mdash:2014 lsquo:2018 rsquo:2019 sbquo:201a ldquo:201c rdquo:201d ' +
  'bdquo:201e dagger:2020 Dagger:2021 bull:2022 hellip:2026 permil:2030 prime:2032 Prime:2033 lsaquo:2039 ' +
  'rsaquo:203a oline:203e frasl:2044 euro:20ac image:2111 weierp:2118 real:211c trade:2122 alefsym:2135 larr:2190 ' +
  'uarr:2191 rarr:2192 darr:2193 harr:2194 crarr:21b5 lArr:21d0 uArr:21d1 rArr:21d2 dArr:21d3 hArr:21d4 ' +
  'forall:2200 part:2202 exist:2203 empty:2205 nabla:2207 isin:2208 notin:2209 ni:220b prod:220f sum:2211 ' +
  'minus:2212 lowast:2217 radic:221a prop:221d infin:221e ang:2220 and:2227 or:2228 cap:2229 cup:222a int:222b ' +
  'there4:2234 sim:223c cong:2245 asymp:2248 ne:2260 equiv:2261 le:2264 ge:2265 sub:2282 sup:2283 nsub:2284 ' +
  'sube:2286 supe:2287 oplus:2295 otimes:2297 perp:22a5 sdot:22c5 lceil:2308 rceil:2309 lfloor:230a rfloor:230b ' +
  'lang:27e8 rang:27e9 loz:25ca spades:2660 clubs:2663 hearts:2665 diams:2666';
/** keys as in Python's html.entities.html5: "name;" always, bare "name" for the legacy ones */
const ENTITIES = new Map<string, string>();
LATIN1.split(' ').forEach((name, i) => {
  ENTITIES.set(name + ';', String.fromCharCode(0xa0 + i));
  ENTITIES.set(name, String.fromCharCode(0xa0 + i));
});
for (const item of OTHER.split(' ')) {
  const [name, hex] = item.split(':') as [string, string];
  ENTITIES.set(name + ';', String.fromCodePoint(parseInt(hex, 16)));
}
for (const name of ['amp', 'lt', 'gt', 'quot']) {
  ENTITIES.set(name, ENTITIES.get(name + ';')!);
  ENTITIES.set(name.toUpperCase(), ENTITIES.get(name + ';')!);
  ENTITIES.set(name.toUpperCase() + ';', ENTITIES.get(name + ';')!);
}
for (const name of ['COPY', 'REG']) {
  ENTITIES.set(name, ENTITIES.get(name.toLowerCase())!);
  ENTITIES.set(name + ';', ENTITIES.get(name.toLowerCase())!);
}

/** Windows-1252 for 0x80..0x9F, undefined bytes kept (Python's _invalid_charrefs / ftfy's sloppy-windows-1252) */
const CP1252_C1 =
  '\u20ac\x81\u201a\u0192\u201e\u2026\u2020\u2021\u02c6\u2030\u0160\u2039\u0152\x8d\u017d\x8f' +
  '\x90\u2018\u2019\u201c\u201d\u2022\u2013\u2014\u02dc\u2122\u0161\u203a\u0153\x9d\u017e\u0178';

function charref(num: number): string {
  if (num === 0) return '\ufffd';
  if (num === 0x0d) return '\r';
  if (num >= 0x80 && num <= 0x9f) return CP1252_C1[num - 0x80]!;
  if ((num >= 0xd800 && num <= 0xdfff) || num > 0x10ffff || !Number.isFinite(num)) return '\ufffd';
  const invalid = (num >= 1 && num <= 8) || num === 0x0b || (num >= 0x0e && num <= 0x1f) || num === 0x7f ||
    (num >= 0xfdd0 && num <= 0xfdef) || (num & 0xfffe) === 0xfffe;
  return invalid ? '' : String.fromCodePoint(num);
}

const CHARREF_RE = /&(#[0-9]+;?|#[xX][0-9a-fA-F]+;?|[^\t\n\f <&#;]{1,32};?)/g;

/** Python's html.unescape. */
export function htmlUnescape(s: string): string {
  if (!s.includes('&')) return s;
  return s.replace(CHARREF_RE, (_m, ref: string) => {
    if (ref[0] === '#') {
      const hex = ref[1] === 'x' || ref[1] === 'X';
      return charref(parseInt(ref.slice(hex ? 2 : 1).replace(/;$/, ''), hex ? 16 : 10));
    }
    const hit = ENTITIES.get(ref);
    if (hit !== undefined) return hit;
    // longest legacy name that prefixes the reference, as the HTML5 spec (and Python) do
    for (let x = ref.length - 1; x > 1; x--) {
      const pre = ENTITIES.get(ref.slice(0, x));
      if (pre !== undefined) return pre + ref.slice(x);
    }
    return '&' + ref;
  });
}

// ---- ftfy subset ----

/** ftfy's unescape_html: only ';'-terminated refs, plus upper-cased names of lower-case entities (&EACUTE; -> É). */
function ftfyUnescape(s: string): string {
  return s.replace(/&#?[0-9A-Za-z]{1,24};/g, (m) => {
    const name = m.slice(1);
    const hit = ENTITIES.get(name);
    if (hit !== undefined) return hit;
    if (m.startsWith('&#')) {
      const u = htmlUnescape(m);
      return u.includes(';') ? m : u;
    }
    const lower = name.toLowerCase();
    const low = ENTITIES.get(lower);
    if (low !== undefined && name === name.toUpperCase() && htmlUnescape(m) === m) return low.toUpperCase();
    return m;
  });
}

const LIGATURES: Record<string, string> = {
  '\u0132': 'IJ', '\u0133': 'ij', '\u0149': '\u02bcn', '\u01f1': 'DZ', '\u01f2': 'Dz', '\u01f3': 'dz',
  '\u01c4': 'D\u017d', '\u01c5': 'D\u017e', '\u01c6': 'd\u017e', '\u01c7': 'LJ', '\u01c8': 'Lj', '\u01c9': 'lj',
  '\u01ca': 'NJ', '\u01cb': 'Nj', '\u01cc': 'nj', '\ufb00': 'ff', '\ufb01': 'fi', '\ufb02': 'fl', '\ufb03': 'ffi',
  '\ufb04': 'ffl', '\ufb05': '\u017ft', '\ufb06': 'st',
};
const LIGATURE_RE = new RegExp(`[${Object.keys(LIGATURES).join('')}]`, 'g');

function fixSegment(text: string, unescape: boolean): string {
  for (let round = 0; round < 16; round++) {
    const orig = text;
    if (unescape) text = ftfyUnescape(text);
    text = text
      .replace(/[\x80-\x9f]/g, (c) => CP1252_C1[c.charCodeAt(0) - 0x80]!)
      .replace(LIGATURE_RE, (c) => LIGATURES[c]!)
      // fix_character_width: ftfy's WIDTH_MAP is NFKC of U+FF01..U+FFEF, plus U+3000 -> space
      .replace(/[\u3000\uff01-\uffef]/g, (c) => (c === '\u3000' ? ' ' : c.normalize('NFKC')))
      .replace(/[\u201c-\u201f]/g, '"')
      .replace(/[\u02bc\u2018-\u201b]/g, "'")
      .replace(/\x1b\[[0-9;]*[a-zA-Z]/g, '')
      .replace(/[\x00-\x08\x0b\x0e-\x1f\x7f\u206a-\u206f\ufeff\ufff9-\ufffc]/g, '')
      .normalize('NFC');
    if (text === orig) break;
  }
  return text;
}

/** The ftfy.fix_text subset described at the top; fix_text works line by line. */
export function fixText(text: string): string {
  if (/^[\x20-\x7e]*$/.test(text) && !text.includes('&')) return text; // nothing to fix (the usual prompt)
  let out = '';
  let unescape = true;
  for (let pos = 0; pos < text.length; ) {
    const nl = text.indexOf('\n', pos);
    const end = nl < 0 ? text.length : nl + 1;
    const seg = text.slice(pos, end);
    if (seg.includes('<')) unescape = false; // ftfy's unescape_html="auto"
    out += fixSegment(seg, unescape);
    pos = end;
  }
  return out;
}

/** Python's str.isspace() set, which is what re's \s matches */
const PY_SPACE = /[\t-\r\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+/g;

/** whitespace_clean(basic_clean(text)).lower() */
export function cleanText(text: string): string {
  const t = htmlUnescape(htmlUnescape(fixText(text)));
  return t.replace(PY_SPACE, ' ').replace(/^ | $/g, '').toLowerCase();
}

const TOKEN_RE = /<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+/giu;
const utf8 = new TextEncoder();

/** UTF-8 bytes -> bytes_to_unicode chars; printable ASCII maps to itself (fast path: TextEncoder per token is slow). */
function byteEncode(s: string): string {
  if (/^[\x21-\x7e]*$/.test(s)) return s;
  let out = '';
  for (const b of utf8.encode(s)) out += BYTE_CHAR[b];
  return out;
}

/** Tokenizer files a model directory may hold, in order of preference. */
export const TOKENIZER_FILES = ['tokenizer.json', 'bpe_simple_vocab_16e6.txt.gz'];

export class ClipTokenizer {
  readonly sotId: number;
  readonly eotId: number;
  readonly vocabSize: number;
  /** ids of each pre-token's BPE pieces (simple_tokenizer.py's per-word cache) */
  private readonly cache = new Map<string, number[]>();

  private constructor(
    private readonly encoder: Map<string, number>,
    /** merge rank by "a b" */
    private readonly ranks: Map<string, number>,
    sotId: number,
    eotId: number,
    private readonly source: string,
  ) {
    this.sotId = sotId;
    this.eotId = eotId;
    let max = -1;
    for (const id of encoder.values()) if (id > max) max = id;
    this.vocabSize = max + 1;
    this.cache.set(SOT, [sotId]);
    this.cache.set(EOT, [eotId]);
  }

  /** OpenAI's merges file (bpe_simple_vocab_16e6.txt.gz, gzipped or plain). */
  static fromBpeFile(file: string): ClipTokenizer {
    let buf: Buffer;
    try {
      buf = fs.readFileSync(file);
      if (buf[0] === 0x1f && buf[1] === 0x8b) buf = zlib.gunzipSync(buf);
    } catch (e) {
      throw new UserError(`cannot read BPE merges file ${file}: ${(e as Error).message}`);
    }
    const lines = buf.toString('utf8').split('\n').slice(1, N_MERGES + 1);
    const merges = lines.map((l) => l.trim().split(/\s+/));
    if (merges.length !== N_MERGES || merges.some((m) => m.length !== 2)) {
      throw new UserError(`${file}: not a CLIP BPE merges file (need ${N_MERGES} "a b" lines after the header)`);
    }
    const vocab = BYTE_ORDER.map((b) => BYTE_CHAR[b]!);
    vocab.push(...vocab.map((v) => v + '</w>'));
    for (const [a, b] of merges) vocab.push(a! + b!);
    vocab.push(SOT, EOT);
    const encoder = new Map(vocab.map((v, i) => [v, i] as [string, number]));
    const ranks = new Map(merges.map((m, i) => [m.join(' '), i] as [string, number]));
    return new ClipTokenizer(encoder, ranks, encoder.get(SOT)!, encoder.get(EOT)!, file);
  }

  /** A Hugging Face tokenizer.json of a CLIP model (BPE model with vocab + merges, special tokens in added_tokens). */
  static fromTokenizerJson(file: string): ClipTokenizer {
    let json: any;
    try {
      json = JSON.parse(fs.readFileSync(file, 'utf8'));
    } catch (e) {
      throw new UserError(`cannot read tokenizer file ${file}: ${(e as Error).message}`);
    }
    const model = json?.model;
    if (!model || typeof model.vocab !== 'object' || !Array.isArray(model.merges)) {
      throw new UserError(`${file}: expected a BPE tokenizer.json with model.vocab and model.merges`);
    }
    const encoder = new Map<string, number>(Object.entries(model.vocab as Record<string, number>));
    for (const t of (json.added_tokens ?? []) as { id: number; content: string }[]) encoder.set(t.content, t.id);
    const ranks = new Map<string, number>();
    (model.merges as (string | string[])[]).forEach((m, i) => {
      const key = Array.isArray(m) ? m.join(' ') : m;
      if (!ranks.has(key)) ranks.set(key, i);
    });
    const sot = encoder.get(SOT);
    const eot = encoder.get(EOT);
    if (sot === undefined || eot === undefined) throw new UserError(`${file}: no ${SOT} / ${EOT} tokens`);
    return new ClipTokenizer(encoder, ranks, sot, eot, file);
  }

  /** A Hugging Face tokenizer.json, or else OpenAI's merges file (.txt or .txt.gz). */
  static fromFile(file: string): ClipTokenizer {
    return file.endsWith('.json') ? ClipTokenizer.fromTokenizerJson(file) : ClipTokenizer.fromBpeFile(file);
  }

  /** The first of TOKENIZER_FILES the directory has: tokenizer.json, else OpenAI's bpe_simple_vocab_16e6.txt.gz. */
  static fromModelDir(dir: string): ClipTokenizer {
    const file = TOKENIZER_FILES.map((f) => path.join(dir, f)).find((f) => fs.existsSync(f));
    if (!file) throw new UserError(`${dir}: no ${TOKENIZER_FILES.join(' or ')}`);
    return ClipTokenizer.fromFile(file);
  }

  /** SimpleTokenizer.encode: BPE ids without SOT/EOT. */
  encode(text: string): number[] {
    const ids: number[] = [];
    for (const m of cleanText(text).matchAll(TOKEN_RE)) {
      const token = byteEncode(m[0]);
      let pieces = this.cache.get(token);
      if (pieces === undefined) {
        pieces = this.bpe(token).map((p) => {
          const id = this.encoder.get(p);
          if (id === undefined) throw new UserError(`${this.source}: token "${p}" is not in the vocabulary`);
          return id;
        });
        this.cache.set(token, pieces);
      }
      for (const id of pieces) ids.push(id);
    }
    return ids;
  }

  /** The BPE merge loop of simple_tokenizer.py: always merge the lowest-ranked adjacent pair, everywhere. */
  private bpe(token: string): string[] {
    let word = Array.from(token);
    word[word.length - 1] += '</w>';
    while (word.length > 1) {
      let bestRank = Infinity;
      let best = -1;
      for (let i = 0; i < word.length - 1; i++) {
        const r = this.ranks.get(word[i] + ' ' + word[i + 1]);
        if (r !== undefined && r < bestRank) { bestRank = r; best = i; }
      }
      if (best < 0) break;
      const first = word[best]!;
      const second = word[best + 1]!;
      const merged: string[] = [];
      for (let i = 0; i < word.length; ) {
        if (word[i] === first && i < word.length - 1 && word[i + 1] === second) {
          merged.push(first + second);
          i += 2;
        } else {
          merged.push(word[i++]!);
        }
      }
      word = merged;
    }
    return word;
  }

  /**
   * rows of contextLength ids: SOT + ids + EOT, zero-padded; too-long text is truncated keeping EOT as the
   * last token (clip.tokenize(truncate=True)). attentionMask is 1 for SOT..EOT inclusive, 0 for padding.
   */
  tokenize(texts: string[], contextLength = 77): { ids: BigInt64Array; attentionMask: BigInt64Array; n: number; contextLength: number } {
    if (!Number.isInteger(contextLength) || contextLength < 2) throw new RangeError(`contextLength must be an integer >= 2, got ${contextLength}`);
    const n = texts.length;
    const ids = new BigInt64Array(n * contextLength);
    const attentionMask = new BigInt64Array(n * contextLength);
    texts.forEach((text, row) => {
      const toks = [this.sotId, ...this.encode(text), this.eotId];
      if (toks.length > contextLength) {
        toks.length = contextLength;
        toks[contextLength - 1] = this.eotId;
      }
      const base = row * contextLength;
      toks.forEach((t, j) => {
        ids[base + j] = BigInt(t);
        attentionMask[base + j] = 1n;
      });
    });
    return { ids, attentionMask, n, contextLength };
  }
}

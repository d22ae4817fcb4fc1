// RouterOS API word/sentence codec: the byte-exact framing every simulated device speaks (PROTOCOL.md §2).

export const MAX_WORD_LENGTH = 0xffffffff;

export class ProtocolError extends Error {
  readonly code = 'PROTOCOL_ERROR';
}

/** Encode a word length with the shortest of the five RouterOS length forms. */
export function encodeLength(len: number): Buffer {
  if (!Number.isInteger(len) || len < 0 || len > MAX_WORD_LENGTH)
    throw new RangeError(`bad word length ${len}`);
  if (len < 0x80) return Buffer.from([len]);
  if (len < 0x4000) return Buffer.from([((len >>> 8) & 0xff) | 0x80, len & 0xff]);
  if (len < 0x200000) return Buffer.from([((len >>> 16) & 0xff) | 0xc0, (len >>> 8) & 0xff, len & 0xff]);
  if (len < 0x10000000)
    return Buffer.from([((len >>> 24) & 0xff) | 0xe0, (len >>> 16) & 0xff, (len >>> 8) & 0xff, len & 0xff]);
  return Buffer.from([0xf0, (len >>> 24) & 0xff, (len >>> 16) & 0xff, (len >>> 8) & 0xff, len & 0xff]);
}

export function encodeWord(word: string | Buffer): Buffer {
  const body = typeof word === 'string' ? Buffer.from(word, 'latin1') : word;
  return Buffer.concat([encodeLength(body.length), body]);
}

/** A sentence is its words followed by the zero-length word. */
export function encodeSentence(words: readonly (string | Buffer)[]): Buffer {
  const parts: Buffer[] = [];
  for (const w of words) parts.push(encodeWord(w));
  parts.push(Buffer.from([0]));
  return Buffer.concat(parts);
}

/** Bytes needed for the length prefix given its first byte, or -1 for a reserved control byte (>= 0xF1). */
export function prefixSize(b0: number): number {
  if (b0 < 0x80) return 1;
  if (b0 < 0xc0) return 2;
  if (b0 < 0xe0) return 3;
  if (b0 < 0xf0) return 4;
  if (b0 === 0xf0) return 5;
  return -1;
}

export function decodeLength(prefix: Buffer): number {
  const b0 = prefix[0] ?? 0;
  const n = prefixSize(b0);
  if (n < 0) throw new ProtocolError(`reserved control byte 0x${b0.toString(16)}`);
  if (prefix.length < n) throw new ProtocolError('short length prefix');
  const at = (i: number): number => prefix[i] ?? 0;
  switch (n) {
    case 1:
      return b0;
    case 2:
      return ((b0 & 0x3f) << 8) | at(1);
    case 3:
      return ((b0 & 0x1f) << 16) | (at(1) << 8) | at(2);
    case 4:
      return (b0 & 0x0f) * 0x1000000 + ((at(1) << 16) | (at(2) << 8) | at(3));
    default:
      return at(1) * 0x1000000 + ((at(2) << 16) | (at(3) << 8) | at(4));
  }
}

export interface SentenceDecoderOptions {
  /** Largest word accepted; a bigger declared length is a protocol error (protects memory). */
  maxWordLength?: number;
}

/**
 * Incremental stream parser: feed it arbitrary TCP chunks, get complete sentences (as word lists).
 * Empty sentences (a lone 0x00) are dropped, as RouterOS ignores them.
 */
export class SentenceDecoder {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private words: Buffer[] = [];
  private readonly maxWordLength: number;

  constructor(opts: SentenceDecoderOptions = {}) {
    this.maxWordLength = opts.maxWordLength ?? 64 * 1024 * 1024;
  }

  push(chunk: Buffer): Buffer[][] {
    if (chunk.length > 0) {
      this.chunks.push(chunk);
      this.buffered += chunk.length;
    }
    const out: Buffer[][] = [];
    for (;;) {
      if (this.buffered === 0) break;
      const head = this.peek(1);
      const b0 = head[0] ?? 0;
      const n = prefixSize(b0);
      if (n < 0) throw new ProtocolError(`reserved control byte 0x${b0.toString(16)}`);
      if (this.buffered < n) break;
      const len = decodeLength(this.peek(n));
      if (len > this.maxWordLength) throw new ProtocolError(`word of ${len} bytes exceeds limit`);
      if (this.buffered < n + len) break;
      this.take(n);
      if (len === 0) {
        if (this.words.length > 0) out.push(this.words);
        this.words = [];
      } else {
        this.words.push(this.take(len));
      }
    }
    return out;
  }

  /** Bytes held for an unfinished sentence. */
  get pending(): number {
    return this.buffered + this.words.reduce((s, w) => s + w.length, 0);
  }

  private peek(n: number): Buffer {
    const first = this.chunks[0];
    if (first && first.length >= n) return first.subarray(0, n);
    const out = Buffer.alloc(Math.min(n, this.buffered));
    let off = 0;
    for (const c of this.chunks) {
      if (off >= out.length) break;
      off += c.copy(out, off, 0, Math.min(c.length, out.length - off));
    }
    return out;
  }

  private take(n: number): Buffer {
    const first = this.chunks[0];
    let result: Buffer;
    if (first && first.length >= n) {
      result = first.subarray(0, n);
      if (first.length === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
    } else {
      const all = Buffer.concat(this.chunks);
      result = all.subarray(0, n);
      this.chunks = all.length > n ? [all.subarray(n)] : [];
    }
    this.buffered -= n;
    return result;
  }
}

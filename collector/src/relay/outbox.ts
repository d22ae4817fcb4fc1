// The collector's write-ahead outbox: every event is on disk before it is published, and leaves the disk only
// after JetStream acknowledged it. A crash (kill -9) replays from the last acknowledged position; replays are
// harmless because each event's id is its Nats-Msg-Id. Past the size bound, the oldest metric samples are
// dropped first; status, config and progress events are never dropped.
import { existsSync } from 'node:fs';
import {
  appendFile,
  chmod,
  mkdir,
  readdir,
  readFile,
  rename,
  rm,
  stat,
  unlink,
  writeFile,
} from 'node:fs/promises';
import { join } from 'node:path';
import { DROPPABLE_KINDS, type EventKind } from '@tod/contracts';

export interface OutboxEntry {
  id: string;
  subject: string;
  kind: EventKind;
  /** The serialized event (JSON). */
  payload: string;
}

export interface OutboxOptions {
  dir: string;
  /** Upper bound for the bytes on disk; past it droppable events are discarded, oldest first. */
  maxBytes: number;
  /** Events per segment file before a new one is started. */
  segmentEvents?: number;
  onDrop?: (dropped: number) => void;
}

interface Segment {
  seq: number;
  /** Entries already acknowledged (persisted in the cursor file). */
  acked: number;
  count: number;
  bytes: number;
  sealed: boolean;
  /** Bumped when the bound rewrites the segment, so acknowledgements for the old layout are ignored. */
  generation: number;
  /** The segment's entries as written by this process, so draining right behind the writer never reads the
   * file back; absent for segments found at start, rewritten by the bound, or past the cache budget. */
  cache?: OutboxEntry[];
}

/** Bytes of segments kept in memory for draining; beyond it (a long NATS outage) entries are read from disk. */
const CACHE_BUDGET_BYTES = 16 * 1024 * 1024;

export interface PeekedEntry {
  segment: number;
  generation: number;
  index: number;
  entry: OutboxEntry;
}

const SEGMENT = /^seg-(\d{12})\.jsonl$/;
const segName = (seq: number) => `seg-${String(seq).padStart(12, '0')}.jsonl`;

export class Outbox {
  private segments: Segment[] = [];
  private pendingLines: string[] = [];
  private pendingEntries: OutboxEntry[] = [];
  private writers: { resolve: () => void; reject: (err: unknown) => void }[] = [];
  private cachedBytes = 0;
  private flushing: Promise<void> | undefined;
  private readonly segmentEvents: number;
  private droppedTotal = 0;

  private constructor(private readonly opts: OutboxOptions) {
    this.segmentEvents = opts.segmentEvents ?? 1000;
  }

  static async open(opts: OutboxOptions): Promise<Outbox> {
    const box = new Outbox(opts);
    await box.load();
    return box;
  }

  private async load(): Promise<void> {
    // Events may carry secrets (a config snapshot with show-sensitive): the directory is the collector's alone,
    // also when it existed before with a wider mode, and every file in it is 0600.
    await mkdir(this.opts.dir, { recursive: true, mode: 0o700 });
    await chmod(this.opts.dir, 0o700);
    const all = await readdir(this.opts.dir);
    await Promise.all(all.map((n) => chmod(join(this.opts.dir, n), FILE_MODE).catch(() => {})));
    const names = all.filter((n) => SEGMENT.test(n)).sort();
    for (const name of names) {
      const seq = Number(SEGMENT.exec(name)![1]);
      const text = await readFile(join(this.opts.dir, name), 'utf8');
      // A torn last line (crash mid-append) is discarded: it was never acknowledged to anyone.
      const lines = text.split('\n').filter((l) => l && isCompleteJson(l));
      if (lines.length === 0) {
        await rm(join(this.opts.dir, name), { force: true });
        continue;
      }
      const acked = await this.readCursor(seq);
      this.segments.push({
        seq,
        acked,
        count: lines.length,
        bytes: Buffer.byteLength(text),
        sealed: true,
        generation: 0,
      });
    }
    // After a restart every surviving segment is sealed; new events start a fresh one.
  }

  /** Events waiting (on disk or being written) that JetStream has not acknowledged. */
  get depth(): number {
    return this.segments.reduce((n, s) => n + s.count - s.acked, 0) + this.pendingLines.length;
  }

  get bytes(): number {
    return this.segments.reduce((n, s) => n + s.bytes, 0);
  }

  get dropped(): number {
    return this.droppedTotal;
  }

  /** Appends entries; resolves once they are on disk. */
  append(entries: OutboxEntry[]): Promise<void> {
    if (entries.length === 0) return Promise.resolve();
    for (const e of entries) {
      this.pendingLines.push(JSON.stringify(e));
      this.pendingEntries.push(e);
    }
    const written = new Promise<void>((resolve, reject) => this.writers.push({ resolve, reject }));
    void this.flush();
    return written;
  }

  /** One write round at a time: each takes every line buffered so far (concurrent appenders share it) and
   * resolves exactly their appends. Rounds are short, so peek and ack, which wait for the round in progress,
   * are never held up by a stream of appends that keeps a longer flush busy. */
  private flush(): Promise<void> {
    if (!this.flushing) {
      this.flushing = this.writeRound().finally(() => {
        this.flushing = undefined;
        if (this.pendingLines.length) void this.flush();
      });
    }
    return this.flushing;
  }

  private async writeRound(): Promise<void> {
    const lines = this.pendingLines.splice(0);
    const entries = this.pendingEntries.splice(0);
    const writers = this.writers.splice(0);
    try {
      let at = 0;
      while (at < lines.length) {
        let head = this.segments.at(-1);
        if (!head || head.sealed || head.count >= this.segmentEvents) {
          if (head) head.sealed = true;
          head = { seq: (head?.seq ?? 0) + 1, acked: 0, count: 0, bytes: 0, sealed: false, generation: 0 };
          if (this.cachedBytes < CACHE_BUDGET_BYTES) head.cache = [];
          this.segments.push(head);
        }
        const room = this.segmentEvents - head.count;
        const batch = lines.slice(at, at + room);
        const batchEntries = entries.slice(at, at + room);
        at += batch.length;
        const text = batch.join('\n') + '\n';
        await appendFile(join(this.opts.dir, segName(head.seq)), text, { mode: FILE_MODE });
        const bytes = Buffer.byteLength(text);
        head.count += batch.length;
        head.bytes += bytes;
        if (head.cache) {
          head.cache.push(...batchEntries);
          this.cachedBytes += bytes;
          if (this.cachedBytes > CACHE_BUDGET_BYTES) this.uncache(head);
        }
      }
      await this.enforceBound();
      for (const w of writers) w.resolve();
    } catch (err) {
      for (const w of writers) w.reject(err);
    }
  }

  /** The oldest unacknowledged entries, in order, at most `max`. */
  async peek(max: number): Promise<PeekedEntry[]> {
    await this.flushing;
    const out: PeekedEntry[] = [];
    for (const seg of this.segments) {
      if (seg.acked >= seg.count) continue;
      if (seg.cache) {
        for (let i = seg.acked; i < seg.cache.length && out.length < max; i++) {
          out.push({ segment: seg.seq, generation: seg.generation, index: i, entry: seg.cache[i]! });
        }
      } else {
        const lines = await this.readLines(seg.seq);
        for (let i = seg.acked; i < lines.length && out.length < max; i++) {
          const entry = JSON.parse(lines[i]!) as OutboxEntry;
          out.push({ segment: seg.seq, generation: seg.generation, index: i, entry });
        }
      }
      if (out.length >= max) break;
    }
    return out;
  }

  /** Marks everything up to and including a peeked entry as acknowledged; deletes finished segments. An
   * acknowledgement for a segment the bound has since rewritten is ignored: those entries are published
   * again, and JetStream discards the duplicates by Nats-Msg-Id. */
  async ack(upTo: Pick<PeekedEntry, 'segment' | 'generation' | 'index'>): Promise<void> {
    await this.flushing;
    const { segment, index } = upTo;
    const target = this.segments.find((s) => s.seq === segment);
    if (!target || target.generation !== upTo.generation) return;
    for (const seg of [...this.segments]) {
      if (seg.seq > segment) break;
      const upTo = seg.seq < segment ? seg.count : Math.min(index + 1, seg.count);
      const advanced = upTo > seg.acked;
      if (advanced) seg.acked = upTo;
      // A drained head is sealed here, not at every peek: sealing at each peek made a new file per drain round,
      // and a backlog of thousands of one-event files to read back. Only when no append is under way (this
      // check and the seal run without a pause), so no append can land in a file being removed.
      if (seg.acked >= seg.count && !seg.sealed && seg === this.segments.at(-1) && !this.flushing) {
        seg.sealed = true;
      }
      if (seg.acked >= seg.count && seg.sealed) {
        await removeFile(join(this.opts.dir, segName(seg.seq)));
        await removeFile(this.cursorPath(seg.seq));
        this.uncache(seg);
        this.segments.splice(this.segments.indexOf(seg), 1);
      } else if (advanced) {
        await writeAtomic(this.cursorPath(seg.seq), String(seg.acked));
      }
    }
  }

  private async enforceBound(): Promise<void> {
    let excess = this.bytes - this.opts.maxBytes;
    for (const seg of this.segments) {
      if (excess <= 0) break;
      if (seg === this.segments.at(-1) && !seg.sealed) break;
      const lines = await this.readLines(seg.seq);
      const keep: string[] = [];
      let dropped = 0;
      lines.forEach((line, i) => {
        if (i < seg.acked) return;
        const kind = (JSON.parse(line) as OutboxEntry).kind;
        if (DROPPABLE_KINDS.has(kind)) dropped++;
        else keep.push(line);
      });
      const alreadyAcked = seg.acked;
      if (dropped === 0 && alreadyAcked === 0) continue;
      this.uncache(seg);
      const text = keep.length ? keep.join('\n') + '\n' : '';
      const before = seg.bytes;
      if (keep.length) {
        await writeAtomic(join(this.opts.dir, segName(seg.seq)), text);
        await rm(this.cursorPath(seg.seq), { force: true });
      } else {
        await rm(join(this.opts.dir, segName(seg.seq)), { force: true });
        await rm(this.cursorPath(seg.seq), { force: true });
      }
      seg.count = keep.length;
      seg.acked = 0;
      seg.generation++;
      seg.bytes = Buffer.byteLength(text);
      excess -= before - seg.bytes;
      if (dropped) {
        this.droppedTotal += dropped;
        this.opts.onDrop?.(dropped);
      }
    }
    this.segments = this.segments.filter((s) => s.count > 0 || (s === this.segments.at(-1) && !s.sealed));
  }

  private uncache(seg: Segment): void {
    if (!seg.cache) return;
    seg.cache = undefined;
    this.cachedBytes -= seg.bytes;
  }

  private async readLines(seq: number): Promise<string[]> {
    const text = await readFile(join(this.opts.dir, segName(seq)), 'utf8');
    return text.split('\n').filter((l) => l && isCompleteJson(l));
  }

  private cursorPath(seq: number): string {
    return join(this.opts.dir, `${segName(seq)}.acked`);
  }

  private async readCursor(seq: number): Promise<number> {
    const p = this.cursorPath(seq);
    if (!existsSync(p)) return 0;
    const n = Number((await readFile(p, 'utf8')).trim());
    return Number.isInteger(n) && n >= 0 ? n : 0;
  }

  /** Bytes on disk as the filesystem sees them (tests and metrics). */
  async diskBytes(): Promise<number> {
    let total = 0;
    for (const s of this.segments) {
      const p = join(this.opts.dir, segName(s.seq));
      if (existsSync(p)) total += (await stat(p)).size;
    }
    return total;
  }
}

function isCompleteJson(line: string): boolean {
  try {
    JSON.parse(line);
    return true;
  } catch {
    return false;
  }
}

/** unlink, where a missing file is fine: rm({ force }) walks the path like rimraf (an lstat first), on the hot path
 * of every drained segment. */
async function removeFile(path: string): Promise<void> {
  await unlink(path).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'ENOENT') throw err;
  });
}

/** Outbox files: owner read/write only (they hold event payloads, possibly configuration exports). */
const FILE_MODE = 0o600;

async function writeAtomic(path: string, text: string): Promise<void> {
  const tmp = `${path}.tmp`;
  await writeFile(tmp, text, { mode: FILE_MODE });
  await rename(tmp, path);
}

// The TenantHub's SSE side: every client of the tenant, a ring buffer of recent entries keyed by stream
// sequence (so `Last-Event-ID` resumes without gaps inside the window), per-topic filters and heartbeats.
// What the ring no longer covers is backfilled by the hub from JetStream before the client goes live.
import type { LiveTopic } from '@tod/contracts';

export interface EntryKey {
  seq: number;
  sub: number;
}

export interface LiveEntry {
  key: EntryKey;
  topic: LiveTopic;
  /** SSE `event:` name (the device event kind, `alert`, ...) */
  event: string;
  /** JSON text */
  data: string;
}

export function compareKeys(a: EntryKey, b: EntryKey): number {
  return a.seq - b.seq || a.sub - b.sub;
}

export function formatId(k: EntryKey): string {
  return k.sub === 0 ? String(k.seq) : `${k.seq}-${k.sub}`;
}

/** What a reconnecting client missed that the ring does not hold; `overflow` when it cannot be replayed. */
export type Backfill = (afterSeq: number) => AsyncIterable<LiveEntry | 'overflow'>;

interface Client {
  writer: WritableStreamDefaultWriter<Uint8Array>;
  topics: ReadonlySet<LiveTopic>;
  lastSent: EntryKey;
  /** live entries held back while the client is being backfilled */
  held: LiveEntry[] | null;
  closed: boolean;
  /** text written since the last flush (one chunk per turn of the event loop, not one per event) */
  pending: string[];
  /** bytes handed to the stream and not yet taken by the reader */
  queuedBytes: number;
}

export interface FanoutOptions {
  ringSize?: number;
  heartbeatMs?: number;
  /** Bytes a client may have unread before it is cut off (it reconnects and resumes). */
  maxQueuedBytes?: number;
}

const encoder = new TextEncoder();

/** A pipe of bytes for one client. In workerd an IdentityTransformStream: its readable side is native, so
 * the runtime moves each chunk to the socket without entering JavaScript, where a standard TransformStream
 * (what `new TransformStream()` is under current compatibility dates) runs the stream machinery in the
 * isolate for every chunk of every client; with 1,000 clients that was most of the fan-out's time.
 * Elsewhere (unit tests in Node) a standard TransformStream. */
function byteStream(): ReadableWritablePair<Uint8Array, Uint8Array> {
  const Identity = (globalThis as { IdentityTransformStream?: typeof IdentityTransformStream })
    .IdentityTransformStream;
  if (Identity) {
    return new Identity() as unknown as ReadableWritablePair<Uint8Array, Uint8Array>;
  }
  return new TransformStream<Uint8Array, Uint8Array>();
}

export class SseFanout {
  private readonly ring: LiveEntry[] = [];
  /** Every entry after `floor` is in the ring or still to come; null until the hub knows where it starts. */
  private floor: EntryKey | null = null;
  private readonly clients = new Set<Client>();
  private heartbeat: ReturnType<typeof setInterval> | null = null;
  private readonly ringSize: number;
  private readonly heartbeatMs: number;
  private readonly maxQueuedBytes: number;
  private readonly dirty = new Set<Client>();
  private flushScheduled = false;

  constructor(opts: FanoutOptions = {}) {
    this.ringSize = opts.ringSize ?? 10_000;
    this.heartbeatMs = opts.heartbeatMs ?? 15_000;
    this.maxQueuedBytes = opts.maxQueuedBytes ?? 8 * 1024 * 1024;
  }

  get clientCount(): number {
    return this.clients.size;
  }

  /** The hub's consumer starts after `seq`: later entries all pass through push(). */
  startAfter(seq: number): void {
    if (this.floor === null) this.floor = { seq, sub: 0 };
  }

  push(entry: LiveEntry): void {
    // Mostly in order; a late redelivery is slotted in place.
    let i = this.ring.length;
    while (i > 0 && compareKeys(this.ring[i - 1]!.key, entry.key) > 0) i--;
    if (i > 0 && compareKeys(this.ring[i - 1]!.key, entry.key) === 0) return;
    this.ring.splice(i, 0, entry);
    while (this.ring.length > this.ringSize) this.floor = this.ring.shift()!.key;
    for (const c of this.clients) {
      if (c.held) c.held.push(entry);
      else this.send(c, entry);
    }
  }

  /** Opens a stream. `first` are sent before anything else (the snapshot); with `lastId` the client gets
   * everything after it first (ring, or backfill then ring). */
  open(opts: {
    topics: ReadonlySet<LiveTopic>;
    lastId: EntryKey | null;
    first: LiveEntry[];
    backfill: Backfill;
    resync: () => LiveEntry[];
  }): Response {
    const { readable, writable } = byteStream();
    const client: Client = {
      writer: writable.getWriter(),
      topics: opts.topics,
      lastSent: { seq: -1, sub: 0 },
      held: null,
      closed: false,
      pending: [],
      queuedBytes: 0,
    };
    this.write(client, 'retry: 2000\n: connected\n\n');
    for (const e of opts.first) this.writeEntry(client, e, false);
    const lastId = opts.lastId;
    if (lastId) {
      client.lastSent = lastId;
      const newest = this.ring.at(-1)?.key ?? this.floor;
      const inRing =
        this.floor !== null &&
        newest !== null &&
        compareKeys(lastId, this.floor) >= 0 &&
        compareKeys(lastId, newest) <= 0;
      if (inRing) {
        for (const e of this.ring) this.send(client, e);
      } else {
        client.held = [];
        const connectedAt = this.ring.at(-1)?.key ?? { seq: -1, sub: 0 };
        void this.catchUp(client, lastId, connectedAt, opts.backfill, opts.resync);
      }
    }
    this.clients.add(client);
    this.ensureHeartbeat();
    return new Response(readable, {
      headers: {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache, no-transform',
        'x-accel-buffering': 'no',
      },
    });
  }

  private async catchUp(
    client: Client,
    lastId: EntryKey,
    connectedAt: EntryKey,
    backfill: Backfill,
    resync: () => LiveEntry[],
  ): Promise<void> {
    // The gap cannot be filled (too long, expired from the stream, an id from elsewhere): the client gets a
    // fresh snapshot and continues with what arrived since it connected.
    const restart = () => {
      client.lastSent = connectedAt;
      for (const r of resync()) this.writeEntry(client, r, false);
    };
    try {
      for await (const e of backfill(lastId.seq)) {
        if (client.closed) return;
        if (e === 'overflow') {
          restart();
          break;
        }
        this.send(client, e);
      }
    } catch (err) {
      console.error(JSON.stringify({ level: 'error', msg: 'sse backfill failed', error: String(err) }));
      restart();
    }
    // Then what the ring holds and what arrived meanwhile, each once, in order.
    for (const e of this.ring) this.send(client, e);
    const held = client.held ?? [];
    client.held = null;
    for (const e of held) this.send(client, e);
  }

  private send(c: Client, e: LiveEntry): void {
    if (compareKeys(e.key, c.lastSent) <= 0) return;
    c.lastSent = e.key;
    if (!c.topics.has(e.topic)) return;
    this.writeEntry(c, e, true);
  }

  private writeEntry(c: Client, e: LiveEntry, withId: boolean): void {
    const id = withId ? `id: ${formatId(e.key)}\n` : '';
    this.write(c, `${id}event: ${e.event}\ndata: ${e.data}\n\n`);
  }

  private write(c: Client, text: string): void {
    if (c.closed) return;
    c.pending.push(text);
    this.dirty.add(c);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      queueMicrotask(() => this.flush());
    }
  }

  private flush(): void {
    this.flushScheduled = false;
    // Clients of the same topics get the same text: encode it once.
    const encoded = new Map<string, Uint8Array>();
    for (const c of this.dirty) {
      if (c.closed || c.pending.length === 0) continue;
      const text = c.pending.join('');
      let chunk = encoded.get(text);
      if (!chunk) {
        chunk = encoder.encode(text);
        encoded.set(text, chunk);
      }
      c.pending = [];
      if (c.queuedBytes + chunk.byteLength > this.maxQueuedBytes) {
        this.drop(c);
        continue;
      }
      c.queuedBytes += chunk.byteLength;
      c.writer.write(chunk).then(
        () => {
          c.queuedBytes -= chunk.byteLength;
        },
        () => this.drop(c),
      );
    }
    this.dirty.clear();
  }

  private drop(c: Client): void {
    if (c.closed) return;
    c.closed = true;
    this.clients.delete(c);
    c.writer.abort().catch(() => {});
    if (this.clients.size === 0 && this.heartbeat) {
      clearInterval(this.heartbeat);
      this.heartbeat = null;
    }
  }

  private ensureHeartbeat(): void {
    if (this.heartbeat) return;
    this.heartbeat = setInterval(() => {
      for (const c of [...this.clients]) this.write(c, ': heartbeat\n\n');
    }, this.heartbeatMs);
  }

  closeAll(): void {
    for (const c of [...this.clients]) this.drop(c);
  }
}

import type { LiveTopic } from '@tod/contracts';
import { describe, expect, it } from 'vitest';
import { type Backfill, type LiveEntry, SseFanout } from './sse-fanout';

const ALL = new Set<LiveTopic>(['status', 'metrics', 'alerts', 'progress', 'config', 'logs']);

function entry(seq: number, topic: LiveTopic = 'status', sub = 0): LiveEntry {
  return {
    key: { seq, sub },
    topic,
    event: topic === 'metrics' ? 'resource' : 'status',
    data: `{"n":${seq}}`,
  };
}

const noBackfill: Backfill = async function* () {};
const snapshot = () => [{ key: { seq: 0, sub: 0 }, topic: 'status' as const, event: 'snapshot', data: '{}' }];

/** Reads what the stream has produced so far (until it pauses). */
async function readSome(res: Response): Promise<string> {
  const reader = res.body!.getReader();
  let text = '';
  for (;;) {
    const r = await Promise.race([
      reader.read(),
      new Promise<null>((resolve) => setTimeout(() => resolve(null), 50)),
    ]);
    if (r === null || r.done) break;
    text += new TextDecoder().decode(r.value);
  }
  reader.releaseLock();
  return text;
}

const ids = (text: string) => [...text.matchAll(/^id: (.+)$/gm)].map((m) => m[1]);

describe('SseFanout', () => {
  it('starts a new client with the snapshot, then live entries with ids', async () => {
    const f = new SseFanout({ heartbeatMs: 60_000 });
    f.startAfter(0);
    const res = f.open({
      topics: ALL,
      lastId: null,
      first: snapshot(),
      backfill: noBackfill,
      resync: snapshot,
    });
    f.push(entry(5));
    f.push(entry(6, 'alerts', 1));
    const text = await readSome(res);
    expect(text).toContain('event: snapshot');
    expect(ids(text)).toEqual(['5', '6-1']);
    f.closeAll();
  });

  it('resumes from the ring after Last-Event-ID, each entry once and in order', async () => {
    const f = new SseFanout({ heartbeatMs: 60_000 });
    f.startAfter(0);
    for (const s of [1, 2, 3, 4]) f.push(entry(s));
    f.push(entry(3)); // a redelivery: not a second entry
    const res = f.open({
      topics: ALL,
      lastId: { seq: 2, sub: 0 },
      first: [],
      backfill: noBackfill,
      resync: snapshot,
    });
    f.push(entry(5));
    expect(ids(await readSome(res))).toEqual(['3', '4', '5']);
    f.closeAll();
  });

  it('backfills what the ring no longer holds before going live', async () => {
    const f = new SseFanout({ heartbeatMs: 60_000, ringSize: 2 });
    f.startAfter(0);
    for (const s of [1, 2, 3, 4]) f.push(entry(s));
    const asked: number[] = [];
    const backfill: Backfill = async function* (after) {
      asked.push(after);
      yield entry(2);
      yield entry(3);
    };
    const res = f.open({ topics: ALL, lastId: { seq: 1, sub: 0 }, first: [], backfill, resync: snapshot });
    expect(ids(await readSome(res))).toEqual(['2', '3', '4']);
    expect(asked).toEqual([1]);
    f.closeAll();
  });

  it('sends a snapshot instead when the gap cannot be replayed', async () => {
    const f = new SseFanout({ heartbeatMs: 60_000, ringSize: 2 });
    f.startAfter(0);
    for (const s of [1, 2, 3]) f.push(entry(s));
    const backfill: Backfill = async function* () {
      yield 'overflow';
    };
    const res = f.open({ topics: ALL, lastId: { seq: 0, sub: 0 }, first: [], backfill, resync: snapshot });
    f.push(entry(4));
    const text = await readSome(res);
    expect(text).toContain('event: snapshot');
    expect(ids(text)).toEqual(['4']);
    f.closeAll();
  });

  it('filters by topic', async () => {
    const f = new SseFanout({ heartbeatMs: 60_000 });
    f.startAfter(0);
    const res = f.open({
      topics: new Set<LiveTopic>(['metrics']),
      lastId: null,
      first: [],
      backfill: noBackfill,
      resync: snapshot,
    });
    f.push(entry(1, 'status'));
    f.push(entry(2, 'metrics'));
    expect(ids(await readSome(res))).toEqual(['2']);
    f.closeAll();
  });

  it('cuts off a client that does not read', async () => {
    const f = new SseFanout({ heartbeatMs: 60_000, maxQueuedBytes: 1024 });
    f.startAfter(0);
    f.open({ topics: ALL, lastId: null, first: [], backfill: noBackfill, resync: snapshot });
    expect(f.clientCount).toBe(1);
    for (let s = 1; s <= 200; s++) {
      f.push({ ...entry(s), data: 'x'.repeat(100) });
      await new Promise((r) => setTimeout(r, 0));
    }
    expect(f.clientCount).toBe(0);
  });
});

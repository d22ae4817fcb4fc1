import { describe, expect, it } from 'vitest';
import { encodeSentence } from '../wire/codec';
import { cutPoints, type FaultSet, ReplyPipe } from './faults';

function pipeWith(faults: FaultSet, loggedIn = true) {
  const writes: Buffer[] = [];
  let destroyed = false;
  const pipe = new ReplyPipe(
    { write: (b) => writes.push(Buffer.from(b)), destroy: () => (destroyed = true) },
    () => faults,
    () => loggedIn,
  );
  return { pipe, writes, isDestroyed: () => destroyed };
}
/** Resolves once `bytes` bytes have been written (the fragmenting pipe writes on timers). */
async function written(writes: Buffer[], bytes: number): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (writes.reduce((n, w) => n + w.length, 0) < bytes) {
    if (Date.now() > deadline) throw new Error(`only part of ${bytes} bytes was written`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('reply pipe', () => {
  it('writes each sentence in exactly one write when there are no faults', () => {
    const { pipe, writes } = pipeWith({});
    const s = encodeSentence(['!done', '.tag=1']);
    pipe.send(s);
    expect(writes).toEqual([s]);
  });

  it('cuts a sentence at the requested bytes: inside a two-byte length prefix and before the final zero', async () => {
    const s = encodeSentence(['!re', `=comment=${'c'.repeat(0x80)}`]);
    const { pipe, writes } = pipeWith({ fragment: { at: [5, s.length - 1], gapMs: 1 } });
    pipe.send(s);
    await written(writes, s.length);
    expect(writes.map((w) => w.length)).toEqual([5, s.length - 6, 1]);
    expect(writes[0]?.[4]).toBe(0x80);
    expect(writes[2]).toEqual(Buffer.from([0]));
    expect(Buffer.concat(writes).equals(s)).toBe(true);
  });

  it('cuts every N bytes and keeps sentence order', async () => {
    const a = encodeSentence(['!re', '=a=1']);
    const b = encodeSentence(['!done']);
    const { pipe, writes } = pipeWith({ fragment: { every: 1, gapMs: 0 } });
    pipe.send(a);
    pipe.send(b);
    await written(writes, a.length + b.length);
    expect(writes.every((w) => w.length === 1)).toBe(true);
    expect(Buffer.concat(writes).equals(Buffer.concat([a, b]))).toBe(true);
  });

  it('leaves login replies alone unless the scope is all', () => {
    const s = encodeSentence(['!done']);
    const before = pipeWith({ dropMidSentence: true }, false);
    before.pipe.send(s);
    expect(before.writes).toEqual([s]);
    const all = pipeWith({ dropMidSentence: true, scope: 'all' }, false);
    all.pipe.send(s);
    expect(all.writes[0]?.length).toBe(Math.floor(s.length / 2));
    expect(all.isDestroyed()).toBe(true);
  });

  it('computes cut points within the sentence only', () => {
    expect(cutPoints(10, { at: [0, 3, 10, 12], every: 4 })).toEqual([3, 4, 8]);
  });
});

import { appendFile, chmod, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EventKind } from '@tod/contracts';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Outbox, type OutboxEntry } from './outbox';

let dir = '';
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tod-outbox-'));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

const entry = (n: number, kind: EventKind = 'resource'): OutboxEntry => ({
  id: `evt-${String(n).padStart(6, '0')}`,
  subject: `tod.evt.t.d.${kind}`,
  kind,
  payload: JSON.stringify({ n, pad: 'x'.repeat(200) }),
});

describe('outbox', () => {
  it('keeps its files to the collector: 0700 directory, 0600 files, also when they existed wider', async () => {
    await chmod(dir, 0o755);
    await writeFile(join(dir, 'seg-000000000001.jsonl'), '', { mode: 0o644 });
    const box = await Outbox.open({ dir, maxBytes: 10_000_000, segmentEvents: 2 });
    await box.append([1, 2, 3].map((n) => entry(n, 'config-snapshot')));
    const first = await box.peek(1);
    await box.ack(first[0]!);
    expect((await stat(dir)).mode & 0o777).toBe(0o700);
    const names = await readdir(dir);
    expect(names.length).toBeGreaterThan(1);
    for (const name of names) expect((await stat(join(dir, name))).mode & 0o777, name).toBe(0o600);
    const fresh = join(dir, 'nested', 'outbox');
    await Outbox.open({ dir: fresh, maxBytes: 10_000_000 });
    expect((await stat(fresh)).mode & 0o777).toBe(0o700);
  });

  it('hands entries back in order and forgets them once acknowledged', async () => {
    const box = await Outbox.open({ dir, maxBytes: 10_000_000, segmentEvents: 4 });
    await box.append([1, 2, 3, 4, 5, 6].map((n) => entry(n)));
    const first = await box.peek(3);
    expect(first.map((p) => p.entry.id)).toEqual(['evt-000001', 'evt-000002', 'evt-000003']);
    await box.ack(first.at(-1)!);
    const rest = await box.peek(10);
    expect(rest.map((p) => p.entry.id)).toEqual(['evt-000004', 'evt-000005', 'evt-000006']);
    await box.ack(rest.at(-1)!);
    expect(box.depth).toBe(0);
    expect((await readdir(dir)).filter((f) => f.endsWith('.jsonl'))).toEqual([]);
  });

  it('survives a crash: unacknowledged entries come back after reopening, acknowledged ones do not', async () => {
    const box = await Outbox.open({ dir, maxBytes: 10_000_000, segmentEvents: 10 });
    await box.append([1, 2, 3, 4, 5].map((n) => entry(n)));
    const peeked = await box.peek(2);
    await box.ack(peeked.at(-1)!);
    // No close: the process "dies" here.
    const reopened = await Outbox.open({ dir, maxBytes: 10_000_000, segmentEvents: 10 });
    expect(reopened.depth).toBe(3);
    expect((await reopened.peek(10)).map((p) => p.entry.id)).toEqual([
      'evt-000003',
      'evt-000004',
      'evt-000005',
    ]);
    await reopened.append([entry(6)]);
    expect((await reopened.peek(10)).map((p) => p.entry.id)).toEqual([
      'evt-000003',
      'evt-000004',
      'evt-000005',
      'evt-000006',
    ]);
  });

  it('discards a line torn by a crash mid-write', async () => {
    const box = await Outbox.open({ dir, maxBytes: 10_000_000 });
    await box.append([entry(1), entry(2)]);
    const [seg] = (await readdir(dir)).filter((f) => f.endsWith('.jsonl'));
    await appendFile(join(dir, seg!), '{"id":"evt-000003","subj');
    const reopened = await Outbox.open({ dir, maxBytes: 10_000_000 });
    expect((await reopened.peek(10)).map((p) => p.entry.id)).toEqual(['evt-000001', 'evt-000002']);
  });

  it('past its bound drops the oldest metrics first and never a status or config event', async () => {
    const dropped: number[] = [];
    const box = await Outbox.open({
      dir,
      maxBytes: 50_000,
      segmentEvents: 20,
      onDrop: (n) => dropped.push(n),
    });
    const kinds: EventKind[] = ['resource', 'interfaces', 'status', 'health', 'config-changed'];
    for (let n = 1; n <= 300; n++) await box.append([entry(n, kinds[n % kinds.length]!)]);
    const left = (await box.peek(1000)).map((p) => p.entry);
    const keptIds = left.map((e) => Number(e.id.slice(4)));
    // Every status and config event is still there, in order.
    const critical = keptIds.filter(
      (n) => kinds[n % kinds.length] === 'status' || kinds[n % kinds.length] === 'config-changed',
    );
    expect(critical).toEqual(
      Array.from({ length: 300 }, (_, i) => i + 1).filter((n) => n % 5 === 2 || n % 5 === 4),
    );
    expect(keptIds).toEqual([...keptIds].sort((a, b) => a - b));
    // Metrics were dropped from the old end: the newest sample survived, the oldest did not.
    expect(box.dropped).toBeGreaterThan(0);
    expect(dropped.reduce((a, b) => a + b, 0)).toBe(box.dropped);
    expect(keptIds).toContain(300);
    expect(keptIds).not.toContain(1);
    // Within the bound, give or take the head segment still being written.
    expect(await box.diskBytes()).toBeLessThanOrEqual(50_000 + 20 * 300);
  });

  it('ignores an acknowledgement for a segment the bound rewrote meanwhile', async () => {
    const box = await Outbox.open({ dir, maxBytes: 1_000_000, segmentEvents: 5 });
    await box.append([entry(1, 'status'), entry(2), entry(3, 'status'), entry(4), entry(5)]);
    const peeked = await box.peek(5);
    // Shrink the bound and force a rewrite of that segment before the acknowledgement arrives.
    (box as unknown as { opts: { maxBytes: number } }).opts.maxBytes = 100;
    await box.append([entry(6)]);
    await box.ack(peeked.at(-1)!);
    const left = (await box.peek(10)).map((p) => p.entry.id);
    expect(left).toEqual(expect.arrayContaining(['evt-000001', 'evt-000003']));
  });
});

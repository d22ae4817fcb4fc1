// Batch configuration end to end with every real part: 200 simulated RouterOS devices, one collector enrolled
// through the edge, nats-server, the edge in workerd (routes, BatchRunner and TenantHub Durable Objects) and
// Postgres. A bulk CLI command over the whole fleet comes back grouped by identical output; a template change
// reaches every device with per-device results and live progress, and an unreachable device fails alone
// unless the batch is asked to stop at the first failure.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NatsConnection } from '@nats-io/transport-node';
import { ConfigBatch, ConfigBatchProgress, ConfirmBatchResponse } from '@tod/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../collector/src/clock';
import type { Collector } from '../collector/src/collector';
import { startEnrolledCollector } from '../collector/tests/harness';
import { createWorld, type World } from '../edge/tests/fixtures';
import { SseClient } from '../edge/tests/sse-client';
import { type Fleet, startFleet } from '../simulator/src/fleet';

const DEVICES = 200;
// Two kinds of router in the fleet: a bulk CLI question about the board has two distinct answers.
const boardOf = (i: number) => (i % 4 === 0 ? 'ccr2004' : 'rb5009');
const FAULTY = 7;

let w: World;
let fleet: Fleet;
let nc: NatsConnection;
let collector: Collector;
let stateDir = '';
const ids: string[] = [];

async function poll<T>(
  f: () => Promise<T | undefined | false> | T | undefined | false,
  what: string,
  timeoutMs = 60_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await f();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function start(body: unknown): Promise<ConfigBatch> {
  const res = await w.a.operator.post('/api/config-batches', body);
  const text = await res.text();
  expect(res.status, text).toBe(202);
  return ConfigBatch.parse((JSON.parse(text) as { batch: unknown }).batch);
}

function finished(id: string, timeoutMs = 180_000): Promise<ConfigBatch> {
  return poll(
    async () => {
      const b = ConfigBatch.parse(await (await w.a.viewer.get(`/api/config-batches/${id}`)).json());
      return b.state !== 'running' && b;
    },
    `batch ${id} to finish`,
    timeoutMs,
  );
}

beforeAll(async () => {
  const overrides = Object.fromEntries(Array.from({ length: DEVICES }, (_, i) => [i, { board: boardOf(i) }]));
  [w, fleet] = await Promise.all([
    createWorld({ nats: true }),
    startFleet({ devices: DEVICES, tls: false, overrides }),
  ]);
  stateDir = await mkdtemp(join(tmpdir(), 'tod-config-batch-'));
  const created = await w.a.admin.post('/api/collectors', { name: 'site', site: 'Lab' });
  const { id: collectorId, enrollToken } = (await created.json()) as { id: string; enrollToken: string };
  for (let from = 0; from < DEVICES; from += 20) {
    const chunk = fleet.manifest.devices.slice(from, from + 20);
    const made = await Promise.all(
      chunk.map(async (sim) => {
        const res = await w.a.operator.post('/api/devices', {
          name: `sim-${String(sim.index).padStart(3, '0')}`,
          host: sim.host,
          port: sim.port,
          tlsMode: 'plain',
          collectorId,
          credentials: fleet.manifest.credentials,
        });
        const text = await res.text();
        expect(res.status, text).toBe(201);
        return (JSON.parse(text) as { id: string }).id;
      }),
    );
    ids.push(...made);
  }
  ({ nc, collector } = await startEnrolledCollector({
    edgeUrl: w.edge.url,
    enrollToken,
    stateDir,
    clock: systemClock,
  }));
  await poll(() => collector.deviceCount === DEVICES, 'the collector to know every device');
}, 300_000);

afterAll(async () => {
  await collector?.stop(2000);
  await nc?.close();
  await fleet?.stop();
  await w?.sql.end();
  if (stateDir) await rm(stateDir, { recursive: true, force: true });
});

describe('config batches against the simulator fleet', () => {
  it('runs a bulk CLI command on 200 devices and groups the two distinct answers', async () => {
    const sse = await SseClient.open(w.a.viewer, '/api/sse?topics=config');
    const b = await start({
      selection: { filter: 'sim-' },
      action: { kind: 'cli', script: '/system resource print .proplist=board-name' },
      concurrency: 20,
    });
    expect(b.counts.total).toBe(DEVICES);
    const done = await finished(b.id);
    expect(done.state).toBe('completed');
    expect(done.counts).toMatchObject({ total: DEVICES, succeeded: DEVICES, failed: 0 });
    const boardName = (i: number) => fleet.manifest.devices[i]!.boardName;
    expect(boardName(0)).not.toBe(boardName(1));
    expect(done.groups).toEqual([
      { output: `board-name=${boardName(1)}`, deviceIds: ids.filter((_, i) => i % 4 !== 0) },
      { output: `board-name=${boardName(0)}`, deviceIds: ids.filter((_, i) => i % 4 === 0) },
    ]);
    // Live progress: every device was streamed running and then succeeded.
    const seen = await sse.until(
      () => {
        const items = sse.events
          .filter((e) => e.event === 'config-batch')
          .map((e) => ConfigBatchProgress.parse(JSON.parse(e.data)))
          .filter((p) => p.batch.id === b.id)
          .flatMap((p) => p.items);
        const ok = new Set(items.filter((i) => i.state === 'succeeded').map((i) => i.deviceId));
        return ok.size === DEVICES && items;
      },
      30_000,
      'progress for every device',
    );
    expect(new Set(seen.filter((i) => i.state === 'running').map((i) => i.deviceId)).size).toBe(DEVICES);
    sse.close();
  }, 240_000);

  it('applies a template to every device; an unreachable device fails alone with its error', async () => {
    await fleet.device(FAULTY).setFaults({ unreachable: true });
    try {
      const t = await w.a.operator.post('/api/config-templates', {
        name: 'identity suffix',
        body: '/system identity set name="{{identity}}-{{suffix}}"',
        variables: [
          { name: 'identity', type: 'string', fact: 'identity' },
          { name: 'suffix', type: 'string' },
        ],
      });
      const { id: templateId } = (await t.json()) as { id: string };
      const b = await start({
        selection: { filter: 'sim-' },
        action: {
          kind: 'template',
          templateId,
          variables: { suffix: 'lab' },
          deviceVariables: { [ids[1]!]: { suffix: 'a"b; /system reboot' } },
        },
        concurrency: 20,
      });
      const done = await finished(b.id);
      expect(done.state).toBe('completed');
      expect(done.counts).toMatchObject({ total: DEVICES, succeeded: DEVICES - 1, failed: 1 });
      const failed = done.items.filter((i) => i.state === 'failed');
      expect(failed.map((i) => i.deviceId)).toEqual([ids[FAULTY]]);
      expect(failed[0]!.error).toBeTruthy();
      expect(done.items[0]!.commands).toEqual(['/system identity set name="sim-000-lab"']);
      for (const i of done.items.filter((x) => x.state === 'succeeded')) expect(i.operationId).not.toBeNull();

      // What the devices now say (the hostile value stayed one name).
      const check = await start({
        selection: { deviceIds: [ids[0]!, ids[1]!, ids[2]!] },
        action: { kind: 'cli', script: '/system identity print' },
      });
      const names = (await finished(check.id)).items.map((i) => i.output);
      expect(names).toEqual(['name=sim-000-lab', 'name=sim-001-a"b; /system reboot', 'name=sim-002-lab']);
    } finally {
      await fleet.device(FAULTY).clearFaults();
    }
  }, 240_000);

  it('applies a safe batch and confirms every waiting change in one request', async () => {
    const b = await start({
      selection: { deviceIds: [ids[20]!, ids[21]!, ids[22]!] },
      action: { kind: 'script', script: '/ip dns set servers=9.9.9.9' },
      mode: 'safe',
      timeoutSeconds: 600,
    });
    const done = await finished(b.id);
    expect(done.counts).toMatchObject({ total: 3, succeeded: 3 });
    for (const i of done.items) expect(i.output).toMatch(/^pending confirmation/);
    const res = await w.a.operator.post(`/api/config-batches/${b.id}/confirm`, {});
    expect(res.status).toBe(200);
    expect(ConfirmBatchResponse.parse(await res.json())).toEqual({ confirmed: 3, reverted: 0, failed: [] });
    for (const i of done.items) {
      const op = (await (await w.a.viewer.get(`/api/config-operations/${i.operationId}`)).json()) as {
        state: string;
      };
      expect(op.state).toBe('confirmed');
    }
    const after = ConfigBatch.parse(await (await w.a.viewer.get(`/api/config-batches/${b.id}`)).json());
    expect(after.items.map((i) => i.output)).toEqual(['confirmed', 'confirmed', 'confirmed']);
  }, 240_000);

  it('stops at the first failure when asked', async () => {
    await fleet.device(FAULTY).setFaults({ unreachable: true });
    try {
      const b = await start({
        selection: { deviceIds: [ids[FAULTY]!, ids[FAULTY + 1]!, ids[FAULTY + 2]!] },
        action: { kind: 'script', script: '/ip dns set servers=9.9.9.9' },
        concurrency: 1,
        stopOnFailure: true,
      });
      const done = await finished(b.id);
      expect(done.state).toBe('stopped');
      expect(done.items.map((i) => i.state)).toEqual(['failed', 'skipped', 'skipped']);
    } finally {
      await fleet.device(FAULTY).clearFaults();
    }
  }, 240_000);
});

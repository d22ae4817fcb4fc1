// GET /api/devices/:id/metrics from outside: raw samples for short spans, 5-minute and hourly rollups (built by
// the TenantHub's maintenance) for longer ones, interface and client filters, roles, isolation, bad input.
import { MetricsResponse } from '@tod/contracts';
import { beforeAll, describe, expect, it } from 'vitest';
import { errorCode, Session } from './client';
import { createWorld, type World } from './fixtures';

let w: World;
let deviceA = '';
let deviceB = '';
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
// Whole hours, so every sample of a test hour lands in one bucket.
const now = Math.floor(Date.now() / HOUR) * HOUR;
const recent = now - 2 * HOUR; // raw
const daysAgo = now - 3 * DAY; // 5-minute rollups
const weeksAgo = now - 20 * DAY; // hourly rollups

beforeAll(async () => {
  w = await createWorld();
  const dev = 'INSERT INTO devices (tenant_id, name, host) VALUES ($1, $2, $3) RETURNING id';
  deviceA = (await w.sql.unsafe<{ id: string }[]>(dev, [w.tenantA, 'a', '10.0.0.1']))[0]!.id;
  deviceB = (await w.sql.unsafe<{ id: string }[]>(dev, [w.tenantB, 'b', '10.1.0.1']))[0]!.id;
  const day = (t: number) => new Date(t).toISOString().slice(0, 10);
  await w.sql`SELECT tod_ensure_metric_partitions(${day(weeksAgo)}::date, ${day(weeksAgo)}::date)`;
  await w.sql`SELECT tod_ensure_metric_partitions(${day(daysAgo)}::date, ${day(daysAgo)}::date)`;
  // Samples as the hub writes them: raw rows plus their dirty 5-minute buckets. Four per base time, one
  // minute apart, CPU 10/20/30/40.
  for (const base of [recent, daysAgo, weeksAgo]) {
    for (let i = 0; i < 4; i++) {
      const t = new Date(base + i * 60_000).toISOString();
      const cpu = (i + 1) * 10;
      for (const [tenant, device] of [
        [w.tenantA, deviceA],
        [w.tenantB, deviceB],
      ] as const) {
        await w.sql`INSERT INTO metric_resource VALUES (${tenant}, ${device}, ${t}, ${cpu}, 100, 200, 10, 20, ${i})`;
        await w.sql`INSERT INTO metric_interfaces VALUES (${tenant}, ${device}, ${t}, 'ether1', true, 1, 1, ${cpu * 1000}, 5)`;
        await w.sql`INSERT INTO metric_interfaces VALUES (${tenant}, ${device}, ${t}, 'ether2', true, 1, 1, 1, 1)`;
        await w.sql`INSERT INTO metric_health VALUES (${tenant}, ${device}, ${t}, 24, ${40 + i}, null)`;
        await w.sql`INSERT INTO metric_wireless VALUES (${tenant}, ${device}, ${t}, 'wlan1', 'AA:BB:CC:00:00:01', ${-50 - i}, 100, 50)`;
        await w.sql`INSERT INTO metric_wireless VALUES (${tenant}, ${device}, ${t}, 'wlan1', 'AA:BB:CC:00:00:02', -70, 10, 5)`;
        await w.sql`INSERT INTO metric_rollup_pending VALUES (${tenant}, date_bin('5 minutes', ${t}::timestamptz, timestamptz 'epoch')) ON CONFLICT DO NOTHING`;
      }
    }
  }
  const res = await w.a.admin.post('/api/hub/maintenance');
  expect(res.status, await res.clone().text()).toBe(200);
  expect(((await res.json()) as { rolledUp: number }).rolledUp).toBeGreaterThan(0);
  return () => w.sql.end();
});

const iso = (t: number) => new Date(t).toISOString();
const url = (device: string, q: Record<string, string>) =>
  `/api/devices/${device}/metrics?${new URLSearchParams(q).toString()}`;

async function metrics(s: Session, device: string, q: Record<string, string>): Promise<MetricsResponse> {
  const res = await s.get(url(device, q));
  expect(res.status, await res.clone().text()).toBe(200);
  return MetricsResponse.parse(await res.json());
}

describe('metrics query', () => {
  it('serves a short span from raw samples', async () => {
    const r = await metrics(w.a.viewer, deviceA, { kind: 'resource', from: iso(recent - HOUR) });
    expect(r.resolution).toBe('raw');
    if (r.kind !== 'resource') throw new Error('kind');
    expect(r.points.map((p) => p.cpuAvg)).toEqual([10, 20, 30, 40]);
    expect(r.points[0]!.t).toBe(iso(recent));
  });

  it('serves a span of days from 5-minute rollups', async () => {
    const r = await metrics(w.a.viewer, deviceA, {
      kind: 'resource',
      from: iso(daysAgo - HOUR),
      to: iso(daysAgo + DAY),
    });
    expect(r.resolution).toBe('5m');
    if (r.kind !== 'resource') throw new Error('kind');
    expect(r.points).toHaveLength(1);
    expect(r.points[0]).toMatchObject({ t: iso(daysAgo), samples: 4, cpuAvg: 25, cpuMax: 40 });
  });

  it('serves a span of weeks from hourly rollups', async () => {
    const r = await metrics(w.a.viewer, deviceA, { kind: 'resource', from: iso(weeksAgo - DAY) });
    expect(r.resolution).toBe('1h');
    if (r.kind !== 'resource') throw new Error('kind');
    // One hourly row per test hour that was rolled up (weeks, days and the recent hour).
    expect(r.points[0]).toMatchObject({ t: iso(weeksAgo), samples: 4, cpuAvg: 25, cpuMax: 40 });
    expect(r.points).toHaveLength(3);
  });

  it('filters one interface and one wireless client', async () => {
    const i = await metrics(w.a.viewer, deviceA, {
      kind: 'interfaces',
      from: iso(recent - HOUR),
      interface: 'ether1',
    });
    if (i.kind !== 'interfaces') throw new Error('kind');
    expect(i.points).toHaveLength(4);
    expect(new Set(i.points.map((p) => p.interface))).toEqual(new Set(['ether1']));
    expect(i.points.map((p) => p.rxBpsAvg)).toEqual([10000, 20000, 30000, 40000]);
    // Raw samples carry the link state (rollups cannot: a bucket spans changes).
    expect(i.points.map((p) => p.running)).toEqual([true, true, true, true]);

    const wl = await metrics(w.a.viewer, deviceA, {
      kind: 'wireless',
      from: iso(daysAgo - HOUR),
      to: iso(daysAgo + DAY),
      client: 'aa:bb:cc:00:00:01',
    });
    if (wl.kind !== 'wireless') throw new Error('kind');
    expect(wl.points).toEqual([
      {
        t: iso(daysAgo),
        client: 'AA:BB:CC:00:00:01',
        interface: 'wlan1',
        samples: 4,
        signalAvg: -51.5,
        signalMin: -53,
        signalMax: -50,
        txRateAvg: 100,
        rxRateAvg: 50,
      },
    ]);

    const h = await metrics(w.a.viewer, deviceA, { kind: 'health', from: iso(weeksAgo - DAY) });
    if (h.kind !== 'health') throw new Error('kind');
    expect(h.points[0]).toMatchObject({ voltage: 24, temperatureAvg: 41.5, temperatureMax: 43 });
  });

  it('is readable by viewers and API keys, not by anonymous callers', async () => {
    const q = { kind: 'resource', from: iso(recent - HOUR) };
    expect((await new Session(w.edge).get(url(deviceA, q))).status).toBe(401);
    expect((await w.a.keyViewer.get(url(deviceA, q))).status).toBe(200);
    expect((await w.rootIn(w.tenantA).get(url(deviceA, q))).status).toBe(200);
  });

  it('answers 404 for another tenant’s device', async () => {
    const res = await w.a.admin.get(url(deviceB, { kind: 'resource', from: iso(recent - HOUR) }));
    expect(res.status).toBe(404);
    expect(await res.text()).not.toContain(w.tenantB);
    const other = await w.b.admin.get(url(deviceA, { kind: 'resource', from: iso(recent - HOUR) }));
    expect(other.status).toBe(404);
  });

  it('refuses bad queries with 400', async () => {
    const bad: Record<string, string>[] = [
      { from: iso(recent) },
      { kind: 'cpu', from: iso(recent) },
      { kind: 'resource' },
      { kind: 'resource', from: 'yesterday' },
      { kind: 'resource', from: iso(recent), to: iso(recent - HOUR) },
      { kind: 'resource', from: iso(recent), interface: 'ether1' },
      { kind: 'interfaces', from: iso(recent), client: 'x' },
      { kind: 'resource', from: iso(now - 500 * DAY) },
      { kind: 'resource', from: iso(recent), extra: '1' },
    ];
    for (const q of bad) {
      const res = await w.a.viewer.get(url(deviceA, q));
      expect(res.status, JSON.stringify(q)).toBe(400);
      expect(await errorCode(res)).toBe('invalid_request');
    }
    expect((await w.a.viewer.get('/api/devices/not-a-uuid/metrics?kind=resource')).status).toBe(404);
  });
});

// GET /api/devices/:id/metrics: one device's samples over a range, from raw samples for short spans and from
// the 5-minute or hourly rollups for longer ones (contracts' resolutionFor), optionally for one interface or
// one wireless client.
import {
  MAX_METRIC_POINTS,
  type MetricResolution,
  type MetricsQuery,
  MetricsQuery as MetricsQuerySchema,
  type MetricsResponse,
  resolutionFor,
} from '@tod/contracts';
import { devices } from '@tod/drizzle/schema';
import { eq, type SQL, sql } from 'drizzle-orm';
import { Hono } from 'hono';
import type { Tx } from '../db';
import type { AppEnv } from '../env';
import { ApiError } from '../errors';
import { inTenant, requireRole } from '../middleware/auth';
import { pathId, readQuery } from '../validate';

export const metricsRoute = new Hono<AppEnv>();

type Row = Record<string, unknown>;

const num = (v: unknown): number => Number(v);
const numOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));
const iso = (v: unknown): string => (v instanceof Date ? v : new Date(String(v))).toISOString();

metricsRoute.get('/:id/metrics', requireRole('viewer'), async (c) => {
  const id = pathId(c);
  const q = readQuery(c, MetricsQuerySchema);
  const from = new Date(q.from);
  const to = q.to ? new Date(q.to) : new Date();
  const resolution = q.resolution ?? resolutionFor(to.getTime() - from.getTime());
  const body = await inTenant(c, async (s) => {
    const [d] = await s.tx.select({ id: devices.id }).from(devices).where(eq(devices.id, id));
    if (!d) throw new ApiError(404, 'not_found', 'device not found');
    return queryMetrics(s.tx, s.tenantId, id, q, from, to, resolution);
  });
  return c.json(body);
});

async function queryMetrics(
  tx: Tx,
  tenantId: string,
  deviceId: string,
  q: MetricsQuery,
  from: Date,
  to: Date,
  resolution: MetricResolution,
): Promise<MetricsResponse> {
  const range = { from: from.toISOString(), to: to.toISOString() };
  const raw = resolution === 'raw';
  const where = (timeCol: string, extra?: SQL): SQL => {
    const t = sql.raw(timeCol);
    return sql`tenant_id = ${tenantId}::uuid AND device_id = ${deviceId}::uuid
      AND ${t} >= ${range.from}::timestamptz AND ${t} < ${range.to}::timestamptz
      ${raw ? sql`` : sql`AND resolution = ${resolution}`} ${extra ? sql`AND ${extra}` : sql``}`;
  };
  const run = (query: SQL) => tx.execute<Row>(sql`${query} LIMIT ${MAX_METRIC_POINTS}`);

  switch (q.kind) {
    case 'resource': {
      const rows = await run(
        raw
          ? sql`SELECT time AS t, 1 AS samples, cpu_load AS cpu_avg, cpu_load AS cpu_max,
              free_memory::float8 AS free_memory, total_memory::float8 AS total_memory,
              free_hdd::float8 AS free_hdd, total_hdd::float8 AS total_hdd, uptime_seconds::float8 AS uptime
            FROM metric_resource WHERE ${where('time')} ORDER BY time`
          : sql`SELECT bucket AS t, samples, cpu_avg, cpu_max, free_memory_avg AS free_memory,
              total_memory::float8 AS total_memory, free_hdd_avg AS free_hdd, total_hdd::float8 AS total_hdd,
              uptime_max::float8 AS uptime
            FROM metric_resource_rollup WHERE ${where('bucket')} ORDER BY bucket`,
      );
      return {
        kind: 'resource',
        resolution,
        ...range,
        points: rows.map((r) => ({
          t: iso(r.t),
          samples: num(r.samples),
          cpuAvg: num(r.cpu_avg),
          cpuMax: num(r.cpu_max),
          freeMemory: num(r.free_memory),
          totalMemory: num(r.total_memory),
          freeHdd: num(r.free_hdd),
          totalHdd: num(r.total_hdd),
          uptimeSeconds: num(r.uptime),
        })),
      };
    }
    case 'interfaces': {
      const filter = q.interface !== undefined ? sql`interface = ${q.interface}` : undefined;
      const rows = await run(
        raw
          ? sql`SELECT time AS t, interface, 1 AS samples, rx_bps AS rx_avg, rx_bps AS rx_max, tx_bps AS tx_avg,
              tx_bps AS tx_max, running
            FROM metric_interfaces WHERE ${where('time', filter)} ORDER BY time, interface`
          : sql`SELECT bucket AS t, interface, samples, rx_bps_avg AS rx_avg, rx_bps_max AS rx_max,
              tx_bps_avg AS tx_avg, tx_bps_max AS tx_max, NULL::boolean AS running
            FROM metric_interfaces_rollup WHERE ${where('bucket', filter)} ORDER BY bucket, interface`,
      );
      return {
        kind: 'interfaces',
        resolution,
        ...range,
        points: rows.map((r) => ({
          t: iso(r.t),
          interface: String(r.interface),
          samples: num(r.samples),
          rxBpsAvg: numOrNull(r.rx_avg),
          rxBpsMax: numOrNull(r.rx_max),
          txBpsAvg: numOrNull(r.tx_avg),
          txBpsMax: numOrNull(r.tx_max),
          running: r.running === null || r.running === undefined ? null : Boolean(r.running),
        })),
      };
    }
    case 'health': {
      const rows = await run(
        raw
          ? sql`SELECT time AS t, 1 AS samples, voltage, temperature_c AS temp_avg, temperature_c AS temp_max,
              cpu_temperature_c AS cpu_avg, cpu_temperature_c AS cpu_max
            FROM metric_health WHERE ${where('time')} ORDER BY time`
          : sql`SELECT bucket AS t, samples, voltage_avg AS voltage, temperature_avg AS temp_avg,
              temperature_max AS temp_max, cpu_temperature_avg AS cpu_avg, cpu_temperature_max AS cpu_max
            FROM metric_health_rollup WHERE ${where('bucket')} ORDER BY bucket`,
      );
      return {
        kind: 'health',
        resolution,
        ...range,
        points: rows.map((r) => ({
          t: iso(r.t),
          samples: num(r.samples),
          voltage: numOrNull(r.voltage),
          temperatureAvg: numOrNull(r.temp_avg),
          temperatureMax: numOrNull(r.temp_max),
          cpuTemperatureAvg: numOrNull(r.cpu_avg),
          cpuTemperatureMax: numOrNull(r.cpu_max),
        })),
      };
    }
    case 'wireless': {
      const filter = q.client !== undefined ? sql`client_mac = ${q.client.toUpperCase()}` : undefined;
      const rows = await run(
        raw
          ? sql`SELECT time AS t, client_mac, interface, 1 AS samples, signal_dbm AS s_avg, signal_dbm AS s_min,
              signal_dbm AS s_max, tx_rate_mbps AS tx, rx_rate_mbps AS rx
            FROM metric_wireless WHERE ${where('time', filter)} ORDER BY time, client_mac`
          : sql`SELECT bucket AS t, client_mac, interface, samples, signal_avg AS s_avg, signal_min AS s_min,
              signal_max AS s_max, tx_rate_avg AS tx, rx_rate_avg AS rx
            FROM metric_wireless_rollup WHERE ${where('bucket', filter)} ORDER BY bucket, client_mac`,
      );
      return {
        kind: 'wireless',
        resolution,
        ...range,
        points: rows.map((r) => ({
          t: iso(r.t),
          client: String(r.client_mac),
          interface: String(r.interface),
          samples: num(r.samples),
          signalAvg: numOrNull(r.s_avg),
          signalMin: numOrNull(r.s_min),
          signalMax: numOrNull(r.s_max),
          txRateAvg: numOrNull(r.tx),
          rxRateAvg: numOrNull(r.rx),
        })),
      };
    }
  }
}

// Writes accepted device events to Postgres in one tenant transaction per batch: the event ledger first
// (ON CONFLICT DO NOTHING, so a redelivered event is recognised and stores nothing), then the samples, device
// status and the dirty rollup buckets of the events that are new. Also the partition and rollup maintenance
// the TenantHub's alarm runs. Rows travel as one JSON parameter per table (jsonb_to_recordset).
import type { DeviceEvent, DeviceEventOf } from '@tod/contracts';
import { sql } from 'drizzle-orm';
import type { Db, Tx } from '../db';

export interface SequencedEvent {
  /** JetStream stream sequence */
  seq: number;
  event: DeviceEvent;
}

export interface StoreResult {
  /** Events stored by this batch (first delivery). */
  fresh: SequencedEvent[];
  /** Events already stored by an earlier delivery. */
  duplicates: number;
}

const json = (rows: unknown[]) => sql`${JSON.stringify(rows)}::jsonb`;

export async function storeBatch(tx: Tx, tenantId: string, batch: SequencedEvent[]): Promise<StoreResult> {
  if (batch.length === 0) return { fresh: [], duplicates: 0 };
  const ledger = batch.map(({ seq, event: e }) => ({
    id: e.id,
    at: e.at,
    device_id: e.deviceId,
    collector_id: e.collectorId,
    kind: e.kind,
    stream_seq: seq,
  }));
  const inserted = await tx.execute<{ id: string }>(sql`
    INSERT INTO ingested_events (tenant_id, id, at, device_id, collector_id, kind, stream_seq)
    SELECT ${tenantId}::uuid, id, at, device_id, collector_id, kind, stream_seq
    FROM jsonb_to_recordset(${json(ledger)})
      AS x(id text, at timestamptz, device_id uuid, collector_id uuid, kind text, stream_seq bigint)
    ON CONFLICT DO NOTHING
    RETURNING id`);
  const newIds = new Set(inserted.map((r) => r.id));
  const fresh: SequencedEvent[] = [];
  for (const s of batch) {
    // An id twice in one batch: the first occurrence is the stored one.
    if (newIds.delete(s.event.id)) fresh.push(s);
  }
  if (fresh.length > 0)
    await storeSamples(
      tx,
      tenantId,
      fresh.map((s) => s.event),
    );
  return { fresh, duplicates: batch.length - fresh.length };
}

function ofKind<K extends DeviceEvent['kind']>(events: DeviceEvent[], kind: K): DeviceEventOf<K>[] {
  return events.filter((e): e is DeviceEventOf<K> => e.kind === kind);
}

async function storeSamples(tx: Tx, tenantId: string, events: DeviceEvent[]): Promise<void> {
  const tenant = sql`${tenantId}::uuid`;
  const resource = ofKind(events, 'resource');
  if (resource.length > 0) {
    const rows = resource.map((e) => ({
      device_id: e.deviceId,
      time: e.at,
      cpu_load: e.data.cpuLoad,
      free_memory: e.data.freeMemory,
      total_memory: e.data.totalMemory,
      free_hdd: e.data.freeHdd,
      total_hdd: e.data.totalHdd,
      uptime_seconds: e.data.uptimeSeconds,
    }));
    await tx.execute(sql`
      INSERT INTO metric_resource
        (tenant_id, device_id, time, cpu_load, free_memory, total_memory, free_hdd, total_hdd, uptime_seconds)
      SELECT ${tenant}, device_id, time, cpu_load, free_memory, total_memory, free_hdd, total_hdd, uptime_seconds
      FROM jsonb_to_recordset(${json(rows)}) AS x(device_id uuid, time timestamptz, cpu_load real,
        free_memory bigint, total_memory bigint, free_hdd bigint, total_hdd bigint, uptime_seconds bigint)`);
    // The device's facts as last reported (newest event per device wins).
    const facts = newestPerDevice(resource).map((e) => ({
      id: e.deviceId,
      at: e.at,
      model: e.data.model ?? null,
      board_name: e.data.boardName,
      serial: e.data.serial ?? null,
      routeros_version: e.data.version,
      firmware: e.data.firmware ?? null,
      architecture: e.data.architecture,
    }));
    await tx.execute(sql`
      UPDATE devices d SET model = coalesce(x.model, d.model), board_name = x.board_name,
        serial = coalesce(x.serial, d.serial), routeros_version = x.routeros_version,
        firmware = coalesce(x.firmware, d.firmware), architecture = x.architecture
      FROM jsonb_to_recordset(${json(facts)}) AS x(id uuid, at timestamptz, model text, board_name text,
        serial text, routeros_version text, firmware text, architecture text)
      WHERE d.id = x.id AND (d.last_seen_at IS NULL OR d.last_seen_at <= x.at)`);
  }

  const interfaces = ofKind(events, 'interfaces');
  if (interfaces.length > 0) {
    const rows = interfaces.flatMap((e) =>
      e.data.interfaces.map((i) => ({
        device_id: e.deviceId,
        time: e.at,
        interface: i.name,
        running: i.running,
        rx_bytes: i.rxBytes,
        tx_bytes: i.txBytes,
        rx_bps: i.rxBps ?? null,
        tx_bps: i.txBps ?? null,
      })),
    );
    if (rows.length > 0) {
      await tx.execute(sql`
        INSERT INTO metric_interfaces
          (tenant_id, device_id, time, interface, running, rx_bytes, tx_bytes, rx_bps, tx_bps)
        SELECT ${tenant}, device_id, time, interface, running, rx_bytes, tx_bytes, rx_bps, tx_bps
        FROM jsonb_to_recordset(${json(rows)}) AS x(device_id uuid, time timestamptz, interface text,
          running boolean, rx_bytes bigint, tx_bytes bigint, rx_bps double precision, tx_bps double precision)`);
    }
  }

  const health = ofKind(events, 'health');
  if (health.length > 0) {
    const rows = health.map((e) => ({
      device_id: e.deviceId,
      time: e.at,
      voltage: e.data.voltage ?? null,
      temperature_c: e.data.temperatureC ?? null,
      cpu_temperature_c: e.data.cpuTemperatureC ?? null,
    }));
    await tx.execute(sql`
      INSERT INTO metric_health (tenant_id, device_id, time, voltage, temperature_c, cpu_temperature_c)
      SELECT ${tenant}, device_id, time, voltage, temperature_c, cpu_temperature_c
      FROM jsonb_to_recordset(${json(rows)}) AS x(device_id uuid, time timestamptz,
        voltage double precision, temperature_c double precision, cpu_temperature_c double precision)`);
  }

  const wireless = ofKind(events, 'wireless');
  if (wireless.length > 0) {
    const rows = wireless.flatMap((e) =>
      e.data.clients.map((c) => ({
        device_id: e.deviceId,
        time: e.at,
        interface: c.interface,
        client_mac: c.macAddress.toUpperCase(),
        signal_dbm: c.signalDbm ?? null,
        tx_rate_mbps: c.txRateMbps ?? null,
        rx_rate_mbps: c.rxRateMbps ?? null,
      })),
    );
    if (rows.length > 0) {
      await tx.execute(sql`
        INSERT INTO metric_wireless
          (tenant_id, device_id, time, interface, client_mac, signal_dbm, tx_rate_mbps, rx_rate_mbps)
        SELECT ${tenant}, device_id, time, interface, client_mac, signal_dbm, tx_rate_mbps, rx_rate_mbps
        FROM jsonb_to_recordset(${json(rows)}) AS x(device_id uuid, time timestamptz, interface text,
          client_mac text, signal_dbm real, tx_rate_mbps real, rx_rate_mbps real)`);
    }
  }

  // Status: the newest observation wins, and a late older one never overwrites it.
  const status = newestPerDevice(ofKind(events, 'status'));
  if (status.length > 0) {
    const rows = status.map((e) => ({ id: e.deviceId, at: e.at, status: e.data.status }));
    await tx.execute(sql`
      UPDATE devices d SET status = x.status, status_at = x.at
      FROM jsonb_to_recordset(${json(rows)}) AS x(id uuid, at timestamptz, status text)
      WHERE d.id = x.id AND (d.status_at IS NULL OR d.status_at <= x.at)`);
  }

  // Last seen: the newest time the device answered (an online/degraded status or any sample).
  const seen = new Map<string, string>();
  for (const e of events) {
    const answered =
      e.kind === 'status'
        ? e.data.status === 'online' || e.data.status === 'degraded'
        : e.kind !== 'progress' && e.kind !== 'config-changed';
    if (!answered) continue;
    const prev = seen.get(e.deviceId);
    if (!prev || Date.parse(prev) < Date.parse(e.at)) seen.set(e.deviceId, e.at);
  }
  if (seen.size > 0) {
    const rows = [...seen].map(([id, at]) => ({ id, at }));
    await tx.execute(sql`
      UPDATE devices d SET last_seen_at = x.at
      FROM jsonb_to_recordset(${json(rows)}) AS x(id uuid, at timestamptz)
      WHERE d.id = x.id AND (d.last_seen_at IS NULL OR d.last_seen_at < x.at)`);
  }

  const sampled = events.filter(
    (e) => e.kind === 'resource' || e.kind === 'interfaces' || e.kind === 'health' || e.kind === 'wireless',
  );
  if (sampled.length > 0) {
    const times = [...new Set(sampled.map((e) => e.at))];
    await tx.execute(sql`
      INSERT INTO metric_rollup_pending (tenant_id, bucket)
      SELECT DISTINCT ${tenant}, date_bin('5 minutes', t::timestamptz, timestamptz 'epoch')
      FROM jsonb_array_elements_text(${json(times)}) AS x(t)
      ON CONFLICT DO NOTHING`);
  }
}

function newestPerDevice<E extends DeviceEvent>(events: E[]): E[] {
  const newest = new Map<string, E>();
  for (const e of events) {
    const prev = newest.get(e.deviceId);
    if (!prev || Date.parse(prev.at) <= Date.parse(e.at)) newest.set(e.deviceId, e);
  }
  return [...newest.values()];
}

// ---- maintenance (called from the TenantHub's alarm, and at write for days not yet seen) ----

/** UTC day (YYYY-MM-DD) of an ISO time. */
export function utcDay(iso: string | number): string {
  return new Date(iso).toISOString().slice(0, 10);
}

export async function ensurePartitions(db: Db, fromDay: string, toDay: string): Promise<number> {
  const rows = await db.execute<{ created: number }>(
    sql`SELECT tod_ensure_metric_partitions(${fromDay}::date, ${toDay}::date) AS created`,
  );
  return Number(rows[0]?.created ?? 0);
}

export async function dropExpiredPartitions(
  db: Db,
  retentionDays: number,
  rollupRetentionDays: number,
): Promise<number> {
  const rows = await db.execute<{ dropped: number }>(
    sql`SELECT tod_drop_expired_metric_partitions(${retentionDays}::int, ${rollupRetentionDays}::int) AS dropped`,
  );
  return Number(rows[0]?.dropped ?? 0);
}

/** Rolls up the tenant's dirty 5-minute buckets (and their hours). Runs in the caller's tenant transaction. */
export async function rollupMetrics(tx: Tx): Promise<number> {
  const rows = await tx.execute<{ n: number }>(sql`SELECT tod_rollup_metrics() AS n`);
  return Number(rows[0]?.n ?? 0);
}

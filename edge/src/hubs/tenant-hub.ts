// TenantHub Durable Object, one per tenant (named by the tenant id): consumes `tod.evt.<tenant>.>` from the
// TOD stream through a durable JetStream pull consumer over NATS WebSocket, drops (and counts) what the
// tenant's collectors may not say, writes each batch to Postgres in one tenant transaction and acks only after
// it commits (the event ledger makes a redelivery store nothing), then keeps the latest device state, streams
// the batch to the tenant's SSE clients and hands it to the event sinks (alerting). An alarm keeps it alive,
// restarts the consumer after a failure and runs partition and rollup maintenance.

import { DurableObject } from 'cloudflare:workers';
import {
  AckPolicy,
  type ConsumerInfo,
  DeliverPolicy,
  type JetStreamManager,
  type JsMsg,
  jetstream,
  jetstreamManager,
} from '@nats-io/jetstream';
import { type NatsConnection, nanos } from '@nats-io/nats-core';
import {
  type Alert,
  type ConfigBatchProgress,
  type DeviceEvent,
  EVENT_STREAM,
  eventStreamConfig,
  eventSubject,
  type HubStats,
  type LiveTopic,
  TOPIC_OF_KIND,
} from '@tod/contracts';
import { collectors, devices } from '@tod/drizzle/schema';
import { and, eq, inArray, sql } from 'drizzle-orm';
import { type DbHandle, openDb, type Tx, withTenant } from '../db';
import type { Bindings } from '../env';
import { configFor } from '../middleware/config';
import { DeviceDirectory, type DropReason, inStoredRange, parseEventMessage } from '../services/ingest';
import { connectEdge, edgeNatsFrom } from '../services/nats-auth';
import {
  dropExpiredPartitions,
  ensurePartitions,
  rollupMetrics,
  type SequencedEvent,
  storeBatch,
  utcDay,
} from '../services/telemetry-store';
import { type EventSink, HUB_TICK_MS, type HubContext, hubSinks } from './event-sink';
import { SilenceWatch } from './silence-watch';
import { type EntryKey, type LiveEntry, SseFanout } from './sse-fanout';

const BATCH_MAX = 1000;
const BATCH_LINGER_MS = 10;
const BACKFILL_MAX = 20_000;
// How long a delivered, unacknowledged event waits before JetStream redelivers it (after a crash of the hub).
const ACK_WAIT_MS = 10_000;
const ROLLUP_EVERY_MS = 60_000;
const PARTITIONS_EVERY_MS = 3_600_000;
const PARTITION_DAYS_AHEAD = 3;

/** The latest known state of one device, for the snapshot a new SSE client starts from. */
interface DeviceLive {
  deviceId: string;
  status: string;
  statusAt: string | null;
  lastSeenAt: string | null;
  resource?: { at: string; cpuLoad: number; freeMemory: number; totalMemory: number; uptimeSeconds: number };
  health?: { at: string; temperatureC?: number; voltage?: number };
}

type Counters = Omit<HubStats, 'tenantId' | 'connected' | 'sseClients' | 'lastError'>;

function emptyCounters(): Counters {
  return {
    received: 0,
    stored: 0,
    duplicates: 0,
    dropped: { invalid: 0, foreignDevice: 0, wrongCollector: 0, outOfRange: 0 },
    batches: 0,
    lastSeq: 0,
  };
}

export class TenantHub extends DurableObject<Bindings> {
  private tenantId: string | null = null;
  private counters: Counters = emptyCounters();
  private lastError: string | null = null;
  private loop: Promise<void> | null = null;
  private nc: NatsConnection | null = null;
  private connected = false;
  private db: DbHandle | null = null;
  /** Maintenance (rollups, partitions) on its own connection, so it never holds up a batch. */
  private maintenanceDb: DbHandle | null = null;
  private readonly directory = new DeviceDirectory();
  private fanout: SseFanout | null = null;
  private readonly latest = new Map<string, DeviceLive>();
  private latestLoaded = false;
  private readonly knownDays = new Set<string>();
  private readonly sinks: EventSink[];
  private lastRollup = 0;
  private lastPartitions = 0;
  /** Derived entries (alerts) get ids `<last seq>-<n>`, n counting up while the last seq stays. */
  private derived = { seq: 0, n: 0 };
  /** Sink broadcasts waiting for the batch's own entries to be streamed first. */
  private readonly outbox: Omit<LiveEntry, 'key'>[] = [];
  /** Which devices and collectors went silent; from the first connection of this hub instance. */
  private silence: SilenceWatch | null = null;

  constructor(ctx: DurableObjectState, env: Bindings) {
    super(ctx, env);
    this.sinks = hubSinks(env);
    ctx.blockConcurrencyWhile(async () => {
      this.tenantId = (await ctx.storage.get<string>('tenantId')) ?? null;
      const saved = await ctx.storage.get<Counters>('counters');
      if (saved) this.counters = { ...emptyCounters(), ...saved };
    });
  }

  // ---- RPC from the Worker ----

  /** Starts consuming (idempotent) and returns the counters. */
  async start(tenantId: string): Promise<HubStats> {
    await this.bind(tenantId);
    return this.stats(tenantId);
  }

  async stats(tenantId: string): Promise<HubStats> {
    await this.bind(tenantId);
    return {
      tenantId,
      connected: this.connected,
      ...this.counters,
      dropped: { ...this.counters.dropped },
      sseClients: this.fanout?.clientCount ?? 0,
      lastError: this.lastError,
    };
  }

  /** Runs the periodic maintenance now (partitions, retention, rollups); for operators and tests. */
  async maintain(
    tenantId: string,
  ): Promise<{ rolledUp: number; partitionsCreated: number; dropped: number }> {
    await this.bind(tenantId);
    return this.runMaintenance(true);
  }

  /** Alert rules or maintenance windows changed: the next batch evaluates with them. */
  async alertingChanged(tenantId: string): Promise<void> {
    await this.bind(tenantId);
    for (const sink of this.sinks) sink.invalidate?.();
  }

  /** Streams an alert changed by hand (acknowledged, resolved) to the tenant's SSE clients, like the alerts
   * the hub raises itself (topic `alerts`, event `alert`). */
  async alertChanged(tenantId: string, kind: 'acknowledged' | 'resolved', alert: Alert): Promise<void> {
    await this.bind(tenantId);
    this.hubContext().broadcast('alerts', 'alert', { kind, alert });
    this.flushOutbox();
  }

  /** Streams a configuration batch's progress (from its BatchRunner) to the tenant's SSE clients (topic
   * `config`, event `config-batch`). */
  async configBatchProgress(tenantId: string, progress: ConfigBatchProgress): Promise<void> {
    await this.bind(tenantId);
    this.hubContext().broadcast('config', 'config-batch', progress);
    this.flushOutbox();
  }

  /** The SSE stream: `x-tod-tenant`, `x-tod-topics` (comma-separated) and `last-event-id` come from the
   * Worker route, which has authenticated the caller. */
  override async fetch(request: Request): Promise<Response> {
    const tenantId = request.headers.get('x-tod-tenant');
    if (!tenantId) return new Response('tenant missing', { status: 400 });
    await this.bind(tenantId);
    const topics = new Set((request.headers.get('x-tod-topics') ?? '').split(',') as LiveTopic[]);
    const lastId = parseKey(request.headers.get('last-event-id'));
    await this.loadLatest();
    const snapshot = (): LiveEntry[] => [
      {
        key: { seq: 0, sub: 0 },
        topic: 'status',
        event: 'snapshot',
        data: JSON.stringify({ devices: [...this.latest.values()] }),
      },
    ];
    return this.sse().open({
      topics,
      lastId,
      first: lastId ? [] : snapshot(),
      backfill: (after) => this.backfill(after),
      resync: snapshot,
    });
  }

  override async alarm(): Promise<void> {
    if (!this.tenantId) return;
    try {
      this.ensureRunning();
      // Saved here rather than per batch: a storage write holds back the batch's acks and SSE writes.
      await this.ctx.storage.put('counters', this.counters);
      await this.runMaintenance(false);
      await this.watchSilence().catch((err) => this.log('silence check failed', err));
      const hub = this.hubContext();
      for (const sink of this.sinks) {
        if (!sink.onTick) continue;
        await sink.onTick(hub).catch((err) => this.log('sink tick failed', err, { sink: sink.name }));
      }
      this.flushOutbox();
    } finally {
      await this.ctx.storage.setAlarm(Date.now() + HUB_TICK_MS);
    }
  }

  // ---- lifecycle ----

  private async bind(tenantId: string): Promise<void> {
    if (this.tenantId && this.tenantId !== tenantId) throw new Error('this hub belongs to another tenant');
    if (!this.tenantId) {
      this.tenantId = tenantId;
      await this.ctx.storage.put('tenantId', tenantId);
    }
    if ((await this.ctx.storage.getAlarm()) === null) {
      await this.ctx.storage.setAlarm(Date.now() + HUB_TICK_MS);
    }
    this.ensureRunning();
  }

  private ensureRunning(): void {
    if (this.loop) return;
    this.loop = this.run().finally(() => {
      this.loop = null;
    });
  }

  private sse(): SseFanout {
    if (!this.fanout) {
      this.fanout = new SseFanout({ heartbeatMs: configFor(this.env).SSE_HEARTBEAT_SECONDS * 1000 });
    }
    return this.fanout;
  }

  private database(): DbHandle {
    if (!this.db) this.db = openDb(configFor(this.env).DATABASE_URL);
    return this.db;
  }

  private inTenant<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    return withTenant(this.database().db, this.tenantId!, fn);
  }

  /** Consumes until the hub goes away; reconnects with backoff after a failure. */
  private async run(): Promise<void> {
    let backoff = 250;
    for (;;) {
      try {
        await this.consume();
        backoff = 250;
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        // Once per distinct failure, not once per retry.
        if (message !== this.lastError) this.log('consumer failed', err);
        this.lastError = message;
      }
      await sleep(backoff);
      backoff = Math.min(backoff * 2, 15_000);
    }
  }

  private durableName(): string {
    return `tenant-hub-${this.tenantId}`;
  }

  private subject(): string {
    return `tod.evt.${this.tenantId}.>`;
  }

  private async consume(): Promise<void> {
    const cfg = configFor(this.env);
    // With NATS auth the hub logs in with fresh edge credentials on every (re)connect of this loop; when its
    // JWT expires the connection ends and the loop connects again with new ones.
    const nc = await connectEdge(edgeNatsFrom(cfg), `tenant-hub ${this.tenantId}`, { reconnect: true });
    this.nc = nc;
    try {
      const jsm = await jetstreamManager(nc);
      await ensureStream(jsm);
      const info = await this.ensureConsumer(jsm);
      this.sse().startAfter(info.ack_floor.stream_seq);
      const consumer = await jetstream(nc).consumers.get(EVENT_STREAM.name, this.durableName());
      const messages = await consumer.consume({ max_messages: BATCH_MAX * 2 });
      this.connected = true;
      this.lastError = null;
      this.silence ??= new SilenceWatch(cfg.DEVICE_OFFLINE_AFTER_SECONDS * 1000, Date.now());
      // One batch at a time: what arrives while a batch is being stored becomes the next batch (so a backlog
      // is taken in large batches), and an idle hub waits BATCH_LINGER_MS for company before writing.
      const buf: JsMsg[] = [];
      let timer: ReturnType<typeof setTimeout> | null = null;
      let pumping: Promise<void> | null = null;
      const pump = (): Promise<void> => {
        if (timer) clearTimeout(timer);
        timer = null;
        pumping ??= (async () => {
          while (buf.length > 0) await this.processBatch(buf.splice(0, BATCH_MAX));
        })().finally(() => {
          pumping = null;
          if (buf.length > 0) timer ??= setTimeout(pump, 0);
        });
        return pumping;
      };
      for await (const m of messages) {
        buf.push(m);
        if (pumping) {
          if (buf.length >= BATCH_MAX) await pumping;
        } else if (buf.length >= BATCH_MAX) void pump();
        else timer ??= setTimeout(pump, BATCH_LINGER_MS);
      }
      await pump();
    } finally {
      this.connected = false;
      this.nc = null;
      await nc.close().catch(() => {});
    }
  }

  private async ensureConsumer(jsm: JetStreamManager): Promise<ConsumerInfo> {
    try {
      return await jsm.consumers.info(EVENT_STREAM.name, this.durableName());
    } catch {
      return jsm.consumers.add(EVENT_STREAM.name, {
        durable_name: this.durableName(),
        filter_subject: this.subject(),
        ack_policy: AckPolicy.Explicit,
        deliver_policy: DeliverPolicy.All,
        ack_wait: nanos(ACK_WAIT_MS),
        max_ack_pending: 20_000,
      });
    }
  }

  // ---- one batch: validate, store, ack, fan out ----

  private async processBatch(msgs: JsMsg[]): Promise<void> {
    const tenantId = this.tenantId!;
    const retention = configFor(this.env).METRICS_RETENTION_DAYS;
    const now = Date.now();
    const drops: DropReason[] = [];
    const candidates: SequencedEvent[] = [];
    for (const m of msgs) {
      const parsed = parseEventMessage(tenantId, m.subject, m.data);
      if (!parsed.ok) drops.push('invalid');
      else if (!inStoredRange(parsed.event.at, now, retention)) drops.push('outOfRange');
      else candidates.push({ seq: m.seq, event: parsed.event });
    }
    let accepted: SequencedEvent[] = [];
    let fresh: SequencedEvent[] = [];
    let duplicates = 0;
    const hub = this.hubContext();
    let written = false;
    try {
      if (candidates.length > 0) {
        await this.ensureDays(candidates);
        for (const sink of this.sinks) await sink.prepare?.(hub);
        const result = await this.inTenant(async (tx) => {
          accepted = await this.authorised(tx, candidates, drops);
          const stored = await storeBatch(tx, tenantId, accepted);
          // What the sinks derive (alert rows, config snapshots) commits with the events, or not at all.
          written = true;
          if (accepted.length > 0) {
            const batch = { fresh: stored.fresh, accepted };
            for (const sink of this.sinks) await sink.write?.(tx, batch, hub);
          }
          return stored;
        });
        fresh = result.fresh;
        duplicates = result.duplicates;
      }
    } catch (err) {
      if (written) for (const sink of this.sinks) sink.abort?.(hub);
      // Not stored: redeliver soon, and slow down so a database outage is not a busy loop.
      this.lastError = err instanceof Error ? err.message : String(err);
      this.log('batch not stored', err, { size: msgs.length });
      for (const m of msgs) m.nak(2000);
      await sleep(1000);
      return;
    }
    // Sinks keep what the batch committed (engine state) before the acks: a crash before this point replays
    // the batch, whose derived rows are then found already stored.
    if (accepted.length > 0) {
      for (const sink of this.sinks) {
        await sink.onCommitted(fresh, hub).catch((err) => this.log('sink failed', err, { sink: sink.name }));
      }
    }
    for (const m of msgs) m.ack();

    const c = this.counters;
    c.received += msgs.length;
    c.stored += fresh.length;
    c.duplicates += duplicates;
    for (const d of drops) c.dropped[d]++;
    c.batches++;
    c.lastSeq = Math.max(c.lastSeq, msgs[msgs.length - 1]!.seq);

    // Redelivered events go to SSE too (a client that missed them resumes by id); sinks see each event once.
    const heardAt = Date.now();
    for (const s of accepted) {
      this.silence?.saw(s.event, heardAt);
      this.remember(s.event);
      this.sse().push(liveEntry(s));
    }
    this.flushOutbox();
  }

  /** The candidates this tenant's directory allows; the rest are added to `drops`. */
  private async authorised(
    tx: Tx,
    candidates: SequencedEvent[],
    drops: DropReason[],
  ): Promise<SequencedEvent[]> {
    await this.directory.refresh(tx, new Map(candidates.map((s) => [s.event.deviceId, s.event.collectorId])));
    return candidates.filter((s) => {
      const reason = this.directory.check(s.event.deviceId, s.event.collectorId);
      if (reason) drops.push(reason);
      return reason === null;
    });
  }

  private async ensureDays(batch: SequencedEvent[]): Promise<void> {
    const days = [...new Set(batch.map((s) => utcDay(s.event.at)))].filter((d) => !this.knownDays.has(d));
    for (const day of days) {
      await ensurePartitions(this.database().db, day, day);
      this.knownDays.add(day);
    }
  }

  private async runMaintenance(
    force: boolean,
  ): Promise<{ rolledUp: number; partitionsCreated: number; dropped: number }> {
    const cfg = configFor(this.env);
    const now = Date.now();
    let partitionsCreated = 0;
    let dropped = 0;
    let rolledUp = 0;
    this.maintenanceDb ??= openDb(cfg.DATABASE_URL);
    const db = this.maintenanceDb.db;
    if (force || now - this.lastPartitions > PARTITIONS_EVERY_MS) {
      partitionsCreated = await ensurePartitions(
        db,
        utcDay(now - 86_400_000),
        utcDay(now + PARTITION_DAYS_AHEAD * 86_400_000),
      );
      dropped = await dropExpiredPartitions(
        db,
        cfg.METRICS_RETENTION_DAYS,
        cfg.METRICS_ROLLUP_RETENTION_DAYS,
      );
      this.knownDays.clear();
      this.lastPartitions = now;
    }
    if (force || now - this.lastRollup > ROLLUP_EVERY_MS) {
      rolledUp = await withTenant(db, this.tenantId!, (tx) => rollupMetrics(tx));
      this.lastRollup = now;
    }
    return { rolledUp, partitionsCreated, dropped };
  }

  // ---- silent devices and collectors ----

  /** Publishes an `offline` status for each device its collector went silent about (it comes back through
   * the consumer like any event: stored, streamed, evaluated by the alert rules), and keeps the tenant's
   * collectors' last-seen time and online/offline status. */
  private async watchSilence(): Promise<void> {
    const watch = this.silence;
    const nc = this.nc;
    const tenantId = this.tenantId!;
    if (!watch || !nc || !this.connected) return;
    const now = Date.now();
    const rows = await this.inTenant((tx) =>
      tx
        .select({
          id: devices.id,
          collectorId: devices.collectorId,
          status: devices.status,
          statusAt: devices.statusAt,
          lastSeenAt: devices.lastSeenAt,
        })
        .from(devices),
    );
    const js = jetstream(nc);
    for (const d of watch.due(rows, now)) {
      const event: DeviceEvent = {
        v: 1,
        id: crypto.randomUUID(),
        tenantId,
        deviceId: d.deviceId,
        collectorId: d.collectorId,
        at: new Date(d.at).toISOString(),
        kind: 'status',
        data: {
          status: 'offline',
          reason: `no report from its collector for ${d.silentSeconds} s`,
          consecutiveFailures: 0,
        },
      };
      await js.publish(eventSubject(tenantId, d.deviceId, 'status'), JSON.stringify(event), {
        msgID: event.id,
      });
    }
    const heard = watch.takeHeardCollectors();
    const silent = watch.silentCollectors(rows, now).filter((id) => !heard.has(id));
    if (heard.size === 0 && silent.length === 0) return;
    let changed: { id: string; status: 'online' | 'offline' }[];
    try {
      changed = await this.inTenant(async (tx) => {
        const out: { id: string; status: 'online' | 'offline' }[] = [];
        if (heard.size > 0) {
          const back = await tx
            .update(collectors)
            .set({ status: 'online' })
            .where(and(inArray(collectors.id, [...heard.keys()]), eq(collectors.status, 'offline')))
            .returning({ id: collectors.id });
          for (const r of back) out.push({ id: r.id, status: 'online' });
          for (const [id, at] of heard) {
            await tx
              .update(collectors)
              .set({
                lastSeenAt: sql`greatest(${collectors.lastSeenAt}, ${new Date(at).toISOString()}::timestamptz)`,
              })
              .where(eq(collectors.id, id));
          }
        }
        if (silent.length > 0) {
          const gone = await tx
            .update(collectors)
            .set({ status: 'offline' })
            .where(and(inArray(collectors.id, silent), eq(collectors.status, 'online')))
            .returning({ id: collectors.id });
          for (const r of gone) out.push({ id: r.id, status: 'offline' });
        }
        return out;
      });
    } catch (err) {
      watch.restoreHeardCollectors(heard);
      throw err;
    }
    if (changed.length === 0) return;
    const hub = this.hubContext();
    for (const c of changed) hub.broadcast('status', 'collector', { collectorId: c.id, status: c.status });
    this.flushOutbox();
  }

  // ---- live state and SSE ----

  private async loadLatest(): Promise<void> {
    if (this.latestLoaded) return;
    const rows = await this.inTenant((tx) =>
      tx
        .select({
          id: devices.id,
          status: devices.status,
          statusAt: devices.statusAt,
          lastSeenAt: devices.lastSeenAt,
        })
        .from(devices),
    );
    for (const r of rows) {
      if (this.latest.has(r.id)) continue;
      this.latest.set(r.id, {
        deviceId: r.id,
        status: r.status,
        statusAt: iso(r.statusAt),
        lastSeenAt: iso(r.lastSeenAt),
      });
    }
    this.latestLoaded = true;
  }

  private remember(e: DeviceEvent): void {
    let d = this.latest.get(e.deviceId);
    if (!d) {
      d = { deviceId: e.deviceId, status: 'unknown', statusAt: null, lastSeenAt: null };
      this.latest.set(e.deviceId, d);
    }
    if (e.kind === 'status') {
      if (!d.statusAt || d.statusAt <= e.at) {
        d.status = e.data.status;
        d.statusAt = e.at;
      }
      if (
        (e.data.status === 'online' || e.data.status === 'degraded') &&
        (!d.lastSeenAt || d.lastSeenAt < e.at)
      ) {
        d.lastSeenAt = e.at;
      }
    } else if (e.kind === 'resource') {
      const { cpuLoad, freeMemory, totalMemory, uptimeSeconds } = e.data;
      d.resource = { at: e.at, cpuLoad, freeMemory, totalMemory, uptimeSeconds };
    } else if (e.kind === 'health') {
      d.health = {
        at: e.at,
        ...(e.data.temperatureC !== undefined ? { temperatureC: e.data.temperatureC } : {}),
        ...(e.data.voltage !== undefined ? { voltage: e.data.voltage } : {}),
      };
    }
  }

  /** Entries after `afterSeq` read back from JetStream (for a client the ring does not cover). */
  private async *backfill(afterSeq: number): AsyncGenerator<LiveEntry | 'overflow'> {
    const nc = this.nc;
    if (!nc) throw new Error('not connected to NATS');
    const jsm = await jetstreamManager(nc);
    const { first_seq: first, last_seq: head } = (await jsm.streams.info(EVENT_STREAM.name)).state;
    if (afterSeq > head || afterSeq + 1 < first) {
      yield 'overflow';
      return;
    }
    if (afterSeq === head) return;
    const ci = await jsm.consumers.add(EVENT_STREAM.name, {
      filter_subject: this.subject(),
      deliver_policy: DeliverPolicy.StartSequence,
      opt_start_seq: afterSeq + 1,
      ack_policy: AckPolicy.None,
      inactive_threshold: nanos(60_000),
      mem_storage: true,
    });
    try {
      const consumer = await jetstream(nc).consumers.get(EVENT_STREAM.name, ci.name);
      let n = 0;
      for (;;) {
        const msgs = await consumer.fetch({ max_messages: 500, expires: 1000 });
        let got = 0;
        let done = false;
        const batch: SequencedEvent[] = [];
        for await (const m of msgs) {
          got++;
          if (m.seq > head) {
            done = true;
            continue;
          }
          const parsed = parseEventMessage(this.tenantId!, m.subject, m.data);
          if (parsed.ok) batch.push({ seq: m.seq, event: parsed.event });
          if (m.info.pending === 0 || m.seq >= head) done = true;
        }
        n += got;
        if (n > BACKFILL_MAX) {
          yield 'overflow';
          return;
        }
        const allowed = batch.length > 0 ? await this.inTenant((tx) => this.authorised(tx, batch, [])) : [];
        for (const s of allowed) yield liveEntry(s);
        if (done || got === 0) return;
      }
    } finally {
      await jsm.consumers.delete(EVENT_STREAM.name, ci.name).catch(() => {});
    }
  }

  private hubContext(): HubContext {
    const tenantId = this.tenantId!;
    return {
      tenantId,
      storage: this.ctx.storage,
      env: this.env,
      withTenant: (fn) => this.inTenant(fn),
      broadcast: (topic, event, data) => {
        this.outbox.push({ topic, event, data: JSON.stringify(data) });
      },
      waitUntil: (p) => this.ctx.waitUntil(p),
      now: () => new Date(),
    };
  }

  /** Streams what the sinks broadcast, after the device events streamed so far. */
  private flushOutbox(): void {
    for (const entry of this.outbox.splice(0)) {
      const seq = this.counters.lastSeq;
      this.derived = { seq, n: this.derived.seq === seq ? this.derived.n + 1 : 1 };
      this.sse().push({ key: { seq, sub: this.derived.n }, ...entry });
    }
  }

  private log(msg: string, err: unknown, extra: Record<string, unknown> = {}): void {
    console.error(
      JSON.stringify({
        level: 'error',
        msg: `tenant hub: ${msg}`,
        tenantId: this.tenantId,
        error: err instanceof Error ? err.message : String(err),
        ...extra,
      }),
    );
  }
}

function liveEntry(s: SequencedEvent): LiveEntry {
  return {
    key: { seq: s.seq, sub: 0 },
    topic: TOPIC_OF_KIND[s.event.kind],
    // SSE event `config-operation` carries the operation DTO (config-ops-sink); the raw collector event
    // behind it streams under its own name.
    event: s.event.kind === 'config-operation' ? 'config-operation-event' : s.event.kind,
    data: JSON.stringify(redacted(s.event)),
  };
}

/** A config snapshot's export text may hold secrets: SSE clients get the event without it. */
function redacted(e: DeviceEvent): unknown {
  if (e.kind !== 'config-snapshot') return e;
  const { export: text, sealedExport, ...data } = e.data;
  return { ...e, data: { ...data, ...(text === undefined ? { sealed: true } : { size: text.length }) } };
}

function parseKey(raw: string | null): EntryKey | null {
  if (!raw || !/^\d{1,16}(-\d{1,9})?$/.test(raw)) return null;
  const [seq, sub] = raw.split('-');
  return { seq: Number(seq), sub: Number(sub ?? 0) };
}

function iso(d: Date | string | null): string | null {
  if (d === null) return null;
  return (d instanceof Date ? d : new Date(d)).toISOString();
}

/** Creates the event stream when missing (the edge does at collector enrolment; whoever comes first). */
async function ensureStream(jsm: JetStreamManager): Promise<void> {
  try {
    await jsm.streams.info(EVENT_STREAM.name);
  } catch {
    try {
      await jsm.streams.add(eventStreamConfig());
    } catch (err) {
      // Created concurrently by another hub or an enrolment.
      await jsm.streams.info(EVENT_STREAM.name).catch(() => {
        throw err;
      });
    }
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

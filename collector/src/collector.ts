// The collector's wiring, one way: registry (which devices) → scheduler (when) → session (one per device) →
// poll (what) → relay (outbox → JetStream). Everything a device does wrong ends as that device's status.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Kvm } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import { DEVICES_BUCKET, type PolledStatus } from '@tod/contracts';
import type { CryptoKey, KeyObject } from 'jose';
import type { Logger } from 'pino';
import { ConfigExportError } from './backup/export';
import { BackupPlan } from './backup/scheduler';
import { takeConfigSnapshot } from './backup/snapshot-event';
import { type Clock, systemClock } from './clock';
import { CommandFailure, CommandHandler } from './commands/handler';
import { backupWindow, type CollectorConfig, leaseTiming } from './config';
import { CollectorMetrics } from './metrics';
import { ReplyShapeError } from './poll/parse';
import { type PollMemory, pollDevice } from './poll/poll-device';
import { DeviceRegistry, type RegisteredDevice } from './registry/registry';
import { Outbox } from './relay/outbox';
import { newEventId, Relay } from './relay/relay';
import { DeviceTrapError, RouterSession, SessionError } from './routeros/session';
import { DeviceLeases } from './schedule/leases';
import { type PollOutcome, PollScheduler } from './schedule/scheduler';

export interface CollectorIdentity {
  tenantId: string;
  collectorId: string;
  privateKey: CryptoKey | KeyObject;
}

export interface CollectorDeps {
  nc: NatsConnection;
  identity: CollectorIdentity;
  config: CollectorConfig;
  logger: Logger;
  clock?: Clock;
  /** Where in its first interval each device's first poll falls, uniform in [0, 1); for deterministic tests. */
  random?: () => number;
  /** Overrides the outbox location (default: <state dir>/outbox). */
  outboxDir?: string;
  /** Per-poll samples for the benchmark (lateness vs schedule, duration); metrics keep only histograms. */
  tap?: {
    pollStarted?(deviceId: string, lateMs: number): void;
    pollFinished?(deviceId: string, durationMs: number, outcome: string): void;
  };
}

interface DeviceState {
  device: RegisteredDevice;
  session?: RouterSession;
  memory: PollMemory;
  failures: number;
  lastStatus?: PolledStatus;
}

function connectionChanged(a: RegisteredDevice, b: RegisteredDevice): boolean {
  const ra = a.registration;
  const rb = b.registration;
  return (
    ra.host !== rb.host ||
    ra.port !== rb.port ||
    ra.tlsPort !== rb.tlsPort ||
    ra.tlsMode !== rb.tlsMode ||
    a.credentials.username !== b.credentials.username ||
    a.credentials.password !== b.credentials.password
  );
}

export class Collector {
  readonly metrics = new CollectorMetrics();
  private readonly devices = new Map<string, DeviceState>();
  private readonly clock: Clock;
  private scheduler!: PollScheduler;
  private relay!: Relay;
  private outbox!: Outbox;
  private registry: DeviceRegistry | undefined;
  private caPem: string | undefined;
  private leases!: DeviceLeases;
  private backups!: BackupPlan;
  private commands: CommandHandler | undefined;

  constructor(private readonly deps: CollectorDeps) {
    this.clock = deps.clock ?? systemClock;
  }

  get deviceCount(): number {
    return this.devices.size;
  }

  /** Shared devices whose HA lease this collector holds now. */
  leasedDevices(): string[] {
    return [...this.devices.keys()].filter((id) => this.leases?.holds(id));
  }

  get outboxDepth(): number {
    return this.outbox?.depth ?? 0;
  }

  async start(): Promise<void> {
    const { config, identity, nc, logger } = this.deps;
    if (config.TLS_CA_FILE) this.caPem = await readFile(config.TLS_CA_FILE, 'utf8');
    this.outbox = await Outbox.open({
      dir: this.deps.outboxDir ?? join(config.TOD_COLLECTOR_STATE_DIR, 'outbox'),
      maxBytes: config.OUTBOX_MAX_MB * 1024 * 1024,
      onDrop: (n) => {
        this.metrics.outboxDropped.inc({}, n);
        logger.warn({ dropped: n }, 'outbox full: dropped the oldest metric events');
      },
    });
    this.relay = new Relay({
      outbox: this.outbox,
      onError: (err) => logger.warn({ err: err.message }, 'publish failed; events stay in the outbox'),
    });
    this.metrics.gauge(
      'tod_collector_devices_active',
      'Devices this collector polls',
      () => this.devices.size,
    );
    this.metrics.gauge('tod_collector_outbox_depth', 'Events waiting in the outbox', () => this.outbox.depth);
    this.metrics.gauge('tod_collector_polls_in_flight', 'Polls running now', () => this.scheduler.polling);
    const timing = leaseTiming(config);
    this.leases = new DeviceLeases({
      nc,
      tenantId: identity.tenantId,
      collectorId: identity.collectorId,
      ttlMs: timing.ttlMs,
      clock: this.clock,
      onAttempt: (outcome) => this.metrics.leaseAttempts.inc({ outcome }),
    });
    this.metrics.gauge(
      'tod_collector_leases_held',
      'Shared (HA) devices whose lease this collector holds',
      () => this.leases.heldCount,
    );
    this.metrics.gauge(
      'tod_collector_devices_standby',
      'Shared (HA) devices another collector of the group polls now',
      () => this.standbyCount(),
    );
    this.scheduler = new PollScheduler({
      standbyRetryMs: timing.retryMs,
      clock: this.clock,
      ...(this.deps.random ? { random: this.deps.random } : {}),
      intervalMs: config.POLL_INTERVAL_S * 1000,
      maxConcurrent: config.MAX_CONCURRENT_POLLS,
      breaker: {
        threshold: config.BREAKER_THRESHOLD,
        baseMs: config.BREAKER_BASE_S * 1000,
        maxMs: config.BREAKER_MAX_S * 1000,
      },
      poll: (id) => this.poll(id),
      onBreakerSkip: () => this.metrics.breakerSkips.inc(),
      onStart: (id, lateMs) => {
        this.metrics.pollLateness.observe(lateMs / 1000);
        this.deps.tap?.pollStarted?.(id, lateMs);
      },
    });
    this.backups = new BackupPlan({
      clock: this.clock,
      nightly: config.BACKUP_NIGHTLY === '1',
      window: backupWindow(config),
      startupSpreadMs: config.BACKUP_STARTUP_SPREAD_S * 1000,
      ...(this.deps.random ? { random: this.deps.random } : {}),
    });
    this.relay.start(nc);
    this.scheduler.start();
    const kv = await new Kvm(nc).create(DEVICES_BUCKET, { history: 1 });
    this.registry = new DeviceRegistry({
      kv,
      tenantId: identity.tenantId,
      collectorId: identity.collectorId,
      privateKey: identity.privateKey,
      onUpsert: (d) => this.upsert(d),
      onRemove: (id) => this.remove(id),
      onInvalid: (key, reason) => logger.warn({ key, reason }, 'ignoring a device entry that cannot be read'),
    });
    await this.registry.start();
    this.commands = new CommandHandler({
      tenantId: identity.tenantId,
      collectorId: identity.collectorId,
      clock: this.clock,
      logger,
      stateDir: config.TOD_COLLECTOR_STATE_DIR,
      openSession: (deviceId) => this.openCommandSession(deviceId),
      publish: async (event) => {
        await this.relay.enqueue(event);
        this.metrics.publishes.inc({ outcome: 'queued' });
      },
      requestBackup: (deviceId) => this.backups.changed(deviceId, 'manual'),
      exportNow: (deviceId) => this.exportNow(deviceId),
    });
    await this.commands.start(nc);
    logger.info({ devices: this.devices.size }, 'collector started');
  }

  /** Finishes the polls in flight, closes sessions, releases HA leases (so a peer takes over at once) and flushes
   * the outbox (bounded by flushTimeoutMs). `releaseLeases: false` leaves the leases to expire, as a crash would. */
  async stop(flushTimeoutMs = 10_000, opts: { releaseLeases?: boolean } = {}): Promise<void> {
    await this.commands?.stop();
    await this.registry?.stop();
    await this.scheduler?.stop();
    for (const state of this.devices.values()) state.session?.close();
    if (this.leases && opts.releaseLeases === false) this.leases.abandon();
    else if (this.leases) {
      const held = this.leases.heldCount;
      const failed = await this.leases.releaseAll();
      this.metrics.leaseReleases.inc({ outcome: 'released' }, held - failed);
      if (failed) {
        this.metrics.leaseReleases.inc({ outcome: 'failed' }, failed);
        this.deps.logger.warn({ leases: failed }, 'leases not released; they expire by TTL');
      }
    }
    if (this.relay) {
      const flushed = await this.relay.flushed(flushTimeoutMs);
      if (!flushed)
        this.deps.logger.warn({ left: this.outbox.depth }, 'stopping with events left in the outbox');
      await this.relay.stop();
    }
  }

  private upsert(device: RegisteredDevice): void {
    const id = device.registration.deviceId;
    const existing = this.devices.get(id);
    if (existing) {
      if (connectionChanged(existing.device, device)) {
        existing.session?.close();
        existing.session = undefined;
      }
      const intervalChanged =
        existing.device.registration.pollIntervalSeconds !== device.registration.pollIntervalSeconds;
      existing.device = device;
      if (intervalChanged) {
        this.scheduler.remove(id);
        this.scheduler.add(id, device.registration.pollIntervalSeconds * 1000);
      }
      return;
    }
    this.devices.set(id, { device, memory: {}, failures: 0 });
    this.backups.add(id);
    this.scheduler.add(id, device.registration.pollIntervalSeconds * 1000);
  }

  private remove(deviceId: string): void {
    const state = this.devices.get(deviceId);
    this.scheduler.remove(deviceId);
    this.backups.remove(deviceId);
    state?.session?.close();
    this.devices.delete(deviceId);
    if (this.leases.holds(deviceId)) {
      this.leases.release(deviceId).then(
        () => this.metrics.leaseReleases.inc({ outcome: 'released' }),
        () => this.metrics.leaseReleases.inc({ outcome: 'failed' }),
      );
    }
  }

  private isShared(state: DeviceState): boolean {
    const peers = state.device.registration.siteCollectors ?? [];
    return peers.length > 1 || (peers.length === 1 && peers[0] !== this.deps.identity.collectorId);
  }

  private standbyCount(): number {
    let n = 0;
    for (const [id, state] of this.devices) if (this.isShared(state) && !this.leases.holds(id)) n++;
    return n;
  }

  /** One slot of the device: its poll, then (only after a successful poll) the outcome of a pending safe
   * apply and a backup if one is due. */
  private async poll(deviceId: string): Promise<PollOutcome> {
    const outcome = await this.pollOnce(deviceId);
    if (outcome === 'ok') {
      await this.checkSafeApplies(deviceId);
      await this.backupIfDue(deviceId);
    }
    return outcome;
  }

  private async checkSafeApplies(deviceId: string): Promise<void> {
    const state = this.devices.get(deviceId);
    if (!state?.session?.isOpen || !this.commands?.pendingFor(deviceId).length) return;
    try {
      await this.commands.checkPending(deviceId, state.session);
    } catch (err) {
      this.deps.logger.warn(
        { deviceId, err: err instanceof Error ? err.message : String(err) },
        'could not check pending safe applies',
      );
    }
  }

  /** A backup on request (command `backup.export`), on a session of its own; the snapshot goes out as the
   * usual `config-snapshot` event. The export text is never logged. */
  private async exportNow(deviceId: string): Promise<void> {
    const state = this.devices.get(deviceId);
    const session = await this.openCommandSession(deviceId);
    const { identity, config } = this.deps;
    try {
      const showSensitive =
        state?.device.registration.backup?.showSensitive ??
        (config.BACKUP_SHOW_SENSITIVE === '1' || config.BACKUP_SHOW_SENSITIVE === 'true');
      const { event } = await takeConfigSnapshot(
        session,
        { tenantId: identity.tenantId, deviceId, collectorId: identity.collectorId },
        { trigger: 'manual', showSensitive },
        this.clock,
        newEventId,
      );
      await this.relay.enqueue(event);
      this.metrics.publishes.inc({ outcome: 'queued' });
      this.metrics.backups.inc({ outcome: 'ok' });
    } finally {
      session.close();
    }
  }

  /** A session of its own for a command from the edge (closed by the caller). A device shared by an HA group
   * is served by the collector holding its lease. */
  private async openCommandSession(deviceId: string): Promise<RouterSession> {
    const state = this.devices.get(deviceId);
    if (!state) throw new CommandFailure('unknown_device', 'this collector does not serve the device');
    if (this.isShared(state) && !this.leases.holds(deviceId))
      throw new CommandFailure('not_leased', 'another collector of the site polls this device now');
    const reg = state.device.registration;
    const { config } = this.deps;
    return RouterSession.open(
      {
        host: reg.host,
        port: reg.port,
        tlsPort: reg.tlsPort,
        tlsMode: reg.tlsMode,
        username: state.device.credentials.username,
        password: state.device.credentials.password,
        ...(this.caPem ? { caPem: this.caPem } : {}),
      },
      {
        connectTimeoutMs: config.CONNECT_TIMEOUT_S * 1000,
        commandTimeoutMs: config.COMMAND_TIMEOUT_S * 1000,
      },
    );
  }

  /** Takes the backup due for a device on its open session. A failure is counted and logged (never the export
   * text: it may hold secrets) and leaves the device's status and breaker alone. */
  private async backupIfDue(deviceId: string): Promise<void> {
    const state = this.devices.get(deviceId);
    const due = this.backups.due(deviceId);
    if (!state?.session?.isOpen || !due) return;
    const { identity, config } = this.deps;
    const log = this.deps.logger.child({ tenantId: identity.tenantId, deviceId });
    const showSensitive =
      state.device.registration.backup?.showSensitive ??
      (config.BACKUP_SHOW_SENSITIVE === '1' || config.BACKUP_SHOW_SENSITIVE === 'true');
    try {
      const { event, leftoverFile } = await takeConfigSnapshot(
        state.session,
        { tenantId: identity.tenantId, deviceId, collectorId: identity.collectorId },
        { trigger: due.trigger, showSensitive },
        this.clock,
        newEventId,
      );
      if (leftoverFile)
        log.warn({ file: leftoverFile }, 'export file left on the device (it could not be removed)');
      await this.relay.enqueue(event);
      this.metrics.publishes.inc({ outcome: 'queued' });
      this.metrics.backups.inc({ outcome: 'ok' });
      this.backups.finished(deviceId, due.trigger, true);
      log.info({ trigger: due.trigger, sensitive: showSensitive }, 'configuration backup taken');
    } catch (err) {
      this.metrics.backups.inc({ outcome: 'failed' });
      this.backups.finished(deviceId, due.trigger, false);
      const code =
        err instanceof ConfigExportError ? err.code : err instanceof SessionError ? err.status : 'error';
      const reason = (err instanceof Error ? err.message : String(err)).slice(0, 300);
      log.warn({ trigger: due.trigger, code, reason }, 'configuration backup failed');
      // A session that failed under the export is reopened by the next poll; a device error leaves it usable.
      if (!(err instanceof ConfigExportError || err instanceof DeviceTrapError)) {
        state.session?.close();
        state.session = undefined;
      }
    }
  }

  private async pollOnce(deviceId: string): Promise<PollOutcome> {
    const state = this.devices.get(deviceId);
    if (!state) return 'ok';
    // A device shared by an HA group is polled only under its lease; the peer that holds it polls it now.
    if (this.isShared(state) && !(await this.leases.acquire(deviceId))) {
      if (state.session) {
        state.session.close();
        state.session = undefined;
      }
      return 'standby';
    }
    const { config, identity } = this.deps;
    const log = this.deps.logger.child({ tenantId: identity.tenantId, deviceId });
    const started = this.clock.now();
    const reg = state.device.registration;
    try {
      if (!state.session?.isOpen) {
        state.session = await RouterSession.open(
          {
            host: reg.host,
            port: reg.port,
            tlsPort: reg.tlsPort,
            tlsMode: reg.tlsMode,
            username: state.device.credentials.username,
            password: state.device.credentials.password,
            ...(this.caPem ? { caPem: this.caPem } : {}),
          },
          {
            connectTimeoutMs: config.CONNECT_TIMEOUT_S * 1000,
            commandTimeoutMs: config.COMMAND_TIMEOUT_S * 1000,
          },
        );
      }
      const result = await pollDevice(
        state.session,
        { tenantId: identity.tenantId, deviceId, collectorId: identity.collectorId },
        state.memory,
        this.clock,
        newEventId,
      );
      state.memory = result.memory;
      if (result.events.some((e) => e.kind === 'config-changed')) this.backups.changed(deviceId);
      state.failures = 0;
      if (state.lastStatus !== 'online') log.info({ tier: state.session.tier }, 'device online');
      state.lastStatus = 'online';
      await this.publishAll(result.events, log);
      this.metrics.polls.inc({ outcome: 'online' });
      this.deps.tap?.pollFinished?.(deviceId, this.clock.now() - started, 'online');
      return 'ok';
    } catch (err) {
      const status: Exclude<PolledStatus, 'online'> =
        err instanceof SessionError
          ? err.status
          : err instanceof ReplyShapeError || err instanceof DeviceTrapError
            ? 'degraded'
            : 'unreachable';
      const reason = (err instanceof Error ? err.message : String(err)).slice(0, 500);
      state.session?.close();
      state.session = undefined;
      state.failures++;
      if (state.lastStatus !== status) log.warn({ status, reason }, 'device status changed');
      state.lastStatus = status;
      await this.publish(
        {
          v: 1,
          id: newEventId(),
          tenantId: identity.tenantId,
          deviceId,
          collectorId: identity.collectorId,
          at: new Date(this.clock.now()).toISOString(),
          kind: 'status',
          data: { status, reason, consecutiveFailures: state.failures },
        },
        log,
      );
      this.metrics.polls.inc({ outcome: status });
      this.deps.tap?.pollFinished?.(deviceId, this.clock.now() - started, status);
      return 'failed';
    } finally {
      this.metrics.pollDuration.observe((this.clock.now() - started) / 1000);
    }
  }

  /** One poll's events in one outbox write. */
  private async publishAll(events: unknown[], log: Logger): Promise<void> {
    try {
      const { accepted, rejected } = await this.relay.enqueueMany(events);
      if (accepted.length) this.metrics.publishes.inc({ outcome: 'queued' }, accepted.length);
      if (rejected.length) {
        this.metrics.publishes.inc({ outcome: 'rejected' }, rejected.length);
        log.error({ err: rejected[0]!.message, count: rejected.length }, 'events not queued');
      }
    } catch (err) {
      this.metrics.publishes.inc({ outcome: 'rejected' }, events.length);
      log.error({ err: err instanceof Error ? err.message : String(err) }, 'events not queued');
    }
  }

  private async publish(event: unknown, log: Logger): Promise<void> {
    try {
      await this.relay.enqueue(event);
      this.metrics.publishes.inc({ outcome: 'queued' });
    } catch (err) {
      this.metrics.publishes.inc({ outcome: 'rejected' });
      log.error({ err: err instanceof Error ? err.message : String(err) }, 'event not queued');
    }
  }
}

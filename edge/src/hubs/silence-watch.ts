// Silent devices and collectors, for the TenantHub's alarm. A collector that dies sends nothing, so no
// `unreachable` status ever comes: the hub notes when it last heard about each device (its own clock, so a
// collector's clock skew does not matter) and, once a device has been silent for `afterMs`, publishes an
// `offline` status event for it, again every `afterMs / 3` (about a poll interval) while the silence lasts, so
// device_offline rules count breaches through the usual engine and hysteresis. A collector none of whose
// devices was heard from for `afterMs` is offline; it is online again with its next event. After a hub start
// every device gets the full `afterMs` before it counts as silent.
import type { DeviceEvent } from '@tod/contracts';

export interface WatchedDevice {
  id: string;
  collectorId: string | null;
  status: string;
  statusAt: Date | string | null;
  lastSeenAt: Date | string | null;
}

export interface SilentDevice {
  deviceId: string;
  collectorId: string;
  /** The offline event's time: now, or just after the newest event of the device when that is later (a
   * collector's clock ahead of the edge's), so the engine and the store take it as the newest status. */
  at: number;
  silentSeconds: number;
}

const ms = (d: Date | string | null): number => (d === null ? 0 : new Date(d).getTime());

export class SilenceWatch {
  /** device → when the hub last stored an event of its collector about it (hub clock) */
  private readonly heard = new Map<string, number>();
  /** device → newest event time seen (event clock), offline events included */
  private readonly newest = new Map<string, number>();
  /** device → when the hub last published an offline event for it */
  private readonly marked = new Map<string, number>();
  private readonly collectorsHeard = new Map<string, number>();
  /** collectors heard since takeHeardCollectors() */
  private readonly freshCollectors = new Map<string, number>();

  constructor(
    readonly afterMs: number,
    private readonly startedAt: number,
  ) {}

  /** Every stored event; `offline` ones (published by the hub itself) are not news from the collector. */
  saw(e: DeviceEvent, now: number): void {
    const at = Date.parse(e.at);
    if (Number.isFinite(at) && at > (this.newest.get(e.deviceId) ?? 0)) this.newest.set(e.deviceId, at);
    if (e.kind === 'status' && e.data.status === 'offline') return;
    this.heard.set(e.deviceId, now);
    this.marked.delete(e.deviceId);
    this.collectorsHeard.set(e.collectorId, now);
    this.freshCollectors.set(e.collectorId, now);
  }

  private lastHeard(deviceId: string): number {
    return Math.max(this.heard.get(deviceId) ?? 0, this.startedAt);
  }

  /** The devices to publish an offline event for now. Devices never polled (`unknown`) and devices without
   * a collector are not watched. */
  due(devices: readonly WatchedDevice[], now: number): SilentDevice[] {
    const repeatMs = Math.max(1000, Math.floor(this.afterMs / 3));
    const out: SilentDevice[] = [];
    for (const d of devices) {
      if (!d.collectorId || d.status === 'unknown') continue;
      const silent = now - this.lastHeard(d.id);
      if (silent < this.afterMs) continue;
      const last = this.marked.get(d.id);
      if (last !== undefined && now - last < repeatMs) continue;
      const newest = Math.max(this.newest.get(d.id) ?? 0, ms(d.statusAt), ms(d.lastSeenAt));
      const at = Math.max(now, newest + 1);
      this.newest.set(d.id, at);
      this.marked.set(d.id, now);
      out.push({ deviceId: d.id, collectorId: d.collectorId, at, silentSeconds: Math.round(silent / 1000) });
    }
    return out;
  }

  /** Collectors (among those of `devices`) none of whose devices was heard from for `afterMs`. */
  silentCollectors(devices: readonly WatchedDevice[], now: number): string[] {
    const ids = new Set(devices.flatMap((d) => (d.collectorId ? [d.collectorId] : [])));
    return [...ids].filter(
      (id) => now - Math.max(this.collectorsHeard.get(id) ?? 0, this.startedAt) >= this.afterMs,
    );
  }

  /** Collectors heard from since the last call, with when. */
  takeHeardCollectors(): Map<string, number> {
    const out = new Map(this.freshCollectors);
    this.freshCollectors.clear();
    return out;
  }

  /** Put back what takeHeardCollectors() returned when it could not be stored. */
  restoreHeardCollectors(heard: Map<string, number>): void {
    for (const [id, at] of heard) {
      if ((this.freshCollectors.get(id) ?? 0) < at) this.freshCollectors.set(id, at);
    }
  }
}

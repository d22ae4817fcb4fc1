// The tenant's devices in memory for the dashboard, the device table and the command palette: loaded page by
// page (first rows render at once), kept current by the live feed (status and resource events).
import type { Device, DeviceEvent } from '@tod/contracts';
import { api } from '../api/client';
import { live } from '../live/sse.svelte';

export interface LiveMetrics {
  cpuLoad: number;
  memoryUsed: number;
  uptimeSeconds: number;
  at: string;
}

const STATUS_OF: Record<string, Device['status']> = {
  online: 'online',
  degraded: 'degraded',
  unreachable: 'unreachable',
  auth_failed: 'auth_failed',
  tls_failed: 'tls_failed',
};

class DeviceStore {
  /** Replaced (not mutated) on change: 10,000 rows stay cheap for Svelte. */
  all = $state.raw<Device[]>([]);
  loaded = $state(false);
  loading = $state(false);
  error = $state<string | null>(null);
  metrics = $state.raw<Map<string, LiveMetrics>>(new Map());
  #tenant: string | null = null;
  #abort: AbortController | null = null;
  #unsubscribe: (() => void) | null = null;

  /** Loads (or reloads) the tenant's devices; a no-op when already loaded for this tenant. */
  async ensure(tenantId: string | null, force = false): Promise<void> {
    if (!tenantId) return;
    if (!force && this.#tenant === tenantId && (this.loaded || this.loading)) return;
    this.#abort?.abort();
    const abort = new AbortController();
    this.#abort = abort;
    if (this.#tenant !== tenantId) {
      this.all = [];
      this.metrics = new Map();
      this.loaded = false;
    }
    this.#tenant = tenantId;
    this.loading = true;
    this.error = null;
    this.#unsubscribe ??= live.subscribe((e) => this.#onEvent(e));
    try {
      const all = await loadFromBothEnds(abort.signal, (front) => {
        if (!this.loaded) this.all = front;
      });
      if (abort.signal.aborted) return;
      this.all = all;
      this.loaded = true;
    } catch (err) {
      if (!abort.signal.aborted) this.error = (err as Error).message;
    } finally {
      if (this.#abort === abort) this.loading = false;
    }
  }

  reload(): Promise<void> {
    return this.ensure(this.#tenant, true);
  }

  upsert(d: Device): void {
    const i = this.all.findIndex((x) => x.id === d.id);
    this.all = i >= 0 ? this.all.with(i, d) : [...this.all, d];
  }

  remove(ids: Iterable<string>): void {
    const gone = new Set(ids);
    this.all = this.all.filter((d) => !gone.has(d.id));
  }

  byId(id: string): Device | undefined {
    return this.all.find((d) => d.id === id);
  }

  #onEvent(e: DeviceEvent): void {
    if (e.kind === 'status') {
      const status = STATUS_OF[e.data.status];
      const i = this.all.findIndex((d) => d.id === e.deviceId);
      const cur = this.all[i];
      if (cur && status && cur.status !== status) {
        this.all = this.all.with(i, {
          ...cur,
          status,
          lastSeenAt: status === 'online' ? e.at : cur.lastSeenAt,
        });
      }
    } else if (e.kind === 'resource') {
      const m = new Map(this.metrics);
      m.set(e.deviceId, {
        cpuLoad: e.data.cpuLoad,
        memoryUsed: e.data.totalMemory ? 1 - e.data.freeMemory / e.data.totalMemory : 0,
        uptimeSeconds: e.data.uptimeSeconds,
        at: e.at,
      });
      this.metrics = m;
      const i = this.all.findIndex((d) => d.id === e.deviceId);
      const cur = this.all[i];
      if (cur && (cur.routerosVersion !== e.data.version || (e.data.model && cur.model !== e.data.model))) {
        this.all = this.all.with(i, {
          ...cur,
          routerosVersion: e.data.version,
          model: e.data.model ?? cur.model,
          serial: e.data.serial ?? cur.serial,
        });
      }
    }
  }

  clear(): void {
    this.#abort?.abort();
    this.#tenant = null;
    this.all = [];
    this.loaded = false;
    this.loading = false;
  }
}

export const deviceStore = new DeviceStore();

type DevicePage = { items: Device[]; nextCursor: string | null };

/** The whole list by name in pages of 200, read from both ends at once (ascending and descending keyset
 * pages meet in the middle), which halves the wait for a large fleet. `onFront` gets the first rows early. */
export async function loadFromBothEnds(
  signal: AbortSignal,
  onFront: (rows: Device[]) => void,
): Promise<Device[]> {
  const front: Device[] = [];
  const back: Device[] = [];
  const frontIds = new Set<string>();
  const backIds = new Set<string>();
  let met = false;
  const walk = async (order: 'asc' | 'desc', rows: Device[], ids: Set<string>, otherIds: Set<string>) => {
    let cursor: string | null = null;
    while (!met) {
      const q = new URLSearchParams({ limit: '200', sort: 'name', order });
      if (cursor) q.set('cursor', cursor);
      const page: DevicePage = await api.get(`/api/devices?${q}`, { signal });
      for (const d of page.items) {
        // Both walks are the same order reversed: the first row the other side has means they met.
        if (otherIds.has(d.id)) {
          met = true;
          break;
        }
        rows.push(d);
        ids.add(d.id);
      }
      if (order === 'asc') onFront([...rows]);
      cursor = page.nextCursor;
      if (!cursor) met = true;
    }
  };
  await Promise.all([walk('asc', front, frontIds, backIds), walk('desc', back, backIds, frontIds)]);
  const all = front;
  for (let i = back.length - 1; i >= 0; i--) if (!frontIds.has(back[i]!.id)) all.push(back[i]!);
  return all;
}

export const STATUS_LABEL: Record<Device['status'], string> = {
  unknown: 'Unknown',
  online: 'Online',
  offline: 'Offline',
  degraded: 'Degraded',
  unreachable: 'Unreachable',
  auth_failed: 'Auth failed',
  tls_failed: 'TLS failed',
};

/** Offline for the dashboard: everything that is not online, degraded or not yet polled. */
export function isOffline(s: Device['status']): boolean {
  return s === 'offline' || s === 'unreachable' || s === 'auth_failed' || s === 'tls_failed';
}

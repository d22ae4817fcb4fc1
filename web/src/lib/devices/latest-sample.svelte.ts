// The newest sample of one kind on a device page (interfaces, wireless): the live feed's newest event of that
// kind, else the device's stored last hour; a later live event replaces it, an older one is ignored. Restarts
// only when the device or the tenant changes. Call during a component's initialisation (it owns an $effect).
import type { DeviceEvent, DeviceEventOf, MetricsResponse } from '@tod/contracts';
import { untrack } from 'svelte';
import { api } from '../api/client';
import { live } from '../live/sse.svelte';
import { session } from '../session.svelte';
import { toastError } from '../toasts.svelte';
import { metricsPath } from './metrics';

type Kind = 'interfaces' | 'wireless';

export interface LatestSample<T> {
  /** null while loading; an empty value after a failed load. */
  readonly value: T | null;
  /** When the newest live sample was taken (ms), null before the first. */
  readonly liveAt: number | null;
}

export function latestSample<K extends Kind, T>(opts: {
  id: () => string;
  kind: K;
  fromEvent: (e: DeviceEventOf<K>, at: number) => T;
  fromStored: (r: Extract<MetricsResponse, { kind: K }>) => T;
  /** What a failed load shows (the toast tells why). */
  empty: T;
  /** Called when the device changes, for the page's own per-device state. */
  onReset?: () => void;
}): LatestSample<T> {
  let value = $state.raw<T | null>(null);
  let liveAt = $state<number | null>(null);

  function fromEvent(e: DeviceEvent): void {
    if (e.kind !== opts.kind || e.deviceId !== opts.id()) return;
    const at = Date.parse(e.at);
    if (liveAt !== null && at < liveAt) return;
    liveAt = at;
    value = opts.fromEvent(e as DeviceEventOf<K>, at);
  }

  $effect(() => {
    const want = opts.id();
    if (!session.tenantId || !want) return;
    // Only the device and the tenant restart this: what it reads below (the feed, the value) must not.
    return untrack(() => {
      value = null;
      liveAt = null;
      opts.onReset?.();
      const abort = new AbortController();
      const off = live.subscribe(fromEvent);
      const held = live.recent.find((e) => e.kind === opts.kind && e.deviceId === want);
      if (held) fromEvent(held);
      else
        api
          .get<MetricsResponse>(metricsPath(want, { kind: opts.kind, range: '1h' }), { signal: abort.signal })
          .then((r) => {
            if (liveAt === null && r.kind === opts.kind)
              value = opts.fromStored(r as Extract<MetricsResponse, { kind: K }>);
          })
          .catch((err) => {
            if (abort.signal.aborted) return;
            value ??= opts.empty;
            toastError(err);
          });
      return () => {
        abort.abort();
        off();
      };
    });
  });

  return {
    get value() {
      return value;
    },
    get liveAt() {
      return liveAt;
    },
  };
}

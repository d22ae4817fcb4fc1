// A chart's data on a device page: stored points for the chosen range from the metrics API, then live
// samples from the SSE feed appended while the range is served raw. Call during component initialisation.
import type { DeviceEvent, MetricsResponse } from '@tod/contracts';
import { untrack } from 'svelte';
import { api } from '../api/client';
import { live } from '../live/sse.svelte';
import { toastError } from '../toasts.svelte';
import {
  appendLive,
  type ChartPoint,
  type MetricsRequest,
  metricsPath,
  type RangeKey,
  rangeMs,
  rangeResolution,
  resolutionStepMs,
} from './metrics';

export interface LiveSeriesSpec {
  deviceId: string;
  request: MetricsRequest;
  /** Series names and how to read them from the response. */
  fromResponse(r: MetricsResponse): Record<string, ChartPoint[]>;
  /** Live points of an event of this device, by series name (nothing when the event is not relevant). */
  fromEvent(e: DeviceEvent): Record<string, ChartPoint> | null;
}

export class LiveSeries {
  series = $state.raw<Record<string, ChartPoint[]>>({});
  loading = $state(true);
  now = $state(Date.now());
  range = $state<RangeKey>('1h');

  get from(): number {
    return this.now - rangeMs(this.range);
  }
  get gapMs(): number {
    return resolutionStepMs(rangeResolution(this.range)) * 2.5;
  }
  /** The chart's right edge: now, or the newest point when a device's clock runs ahead. */
  get to(): number {
    let t = this.now;
    for (const s of Object.values(this.series)) {
      const last = s[s.length - 1];
      if (last && last.t > t) t = last.t;
    }
    return t;
  }
}

/** Loads `spec()` whenever it changes and keeps it live; the returned object is reactive. */
export function liveSeries(spec: () => LiveSeriesSpec): LiveSeries {
  const state = new LiveSeries();
  $effect(() => {
    const s = spec();
    return untrack(() => follow(state, s));
  });
  return state;
}

function follow(state: LiveSeries, s: LiveSeriesSpec): () => void {
  const abort = new AbortController();
  state.range = s.request.range;
  state.loading = true;
  state.series = {};
  state.now = Date.now();
  const raw = rangeResolution(s.request.range) === 'raw';
  // Live samples that arrive while the stored ones load are kept and merged after.
  let pending: Record<string, ChartPoint>[] = [];
  let loaded = false;
  const add = (pts: Record<string, ChartPoint>) => {
    state.now = Date.now();
    const from = state.from;
    const next = { ...state.series };
    for (const [k, p] of Object.entries(pts)) next[k] = appendLive(next[k] ?? [], p, from);
    state.series = next;
  };
  const off = live.subscribe((e) => {
    if (e.deviceId !== s.deviceId || !raw) return;
    const pts = s.fromEvent(e);
    if (!pts) return;
    if (loaded) add(pts);
    else pending.push(pts);
  });
  api
    .get<MetricsResponse>(metricsPath(s.deviceId, s.request), { signal: abort.signal })
    .then((r) => {
      state.series = s.fromResponse(r);
      loaded = true;
      for (const p of pending) add(p);
      pending = [];
    })
    .catch((err) => {
      if (!abort.signal.aborted) {
        state.series = {};
        toastError(err);
      }
    })
    .finally(() => {
      if (!abort.signal.aborted) state.loading = false;
    });
  // The window slides even when nothing arrives (a device down).
  const tick = setInterval(() => {
    state.now = Date.now();
  }, 30_000);
  return () => {
    abort.abort();
    off();
    clearInterval(tick);
  };
}

// The live feed: one EventSource on /api/sse per tab, device events validated with the contracts schema and
// handed to subscribers. Tolerates a server without the endpoint yet (status `unavailable`, retried with
// backoff) so pages work without live updates and pick them up when the pipeline serves them.
import { DeviceEvent } from '@tod/contracts';

export type LiveStatus = 'idle' | 'connecting' | 'live' | 'unavailable';
type Listener = (e: DeviceEvent) => void;

class LiveFeed {
  status = $state<LiveStatus>('idle');
  /** The newest events, newest first (bounded). */
  recent = $state<DeviceEvent[]>([]);
  #source: EventSource | null = null;
  #listeners = new Set<Listener>();
  #retry = 1000;
  #timer: ReturnType<typeof setTimeout> | null = null;
  #url = '';

  start(tenantId: string | null): void {
    const url = tenantId ? `/api/sse?tenant=${encodeURIComponent(tenantId)}` : '/api/sse';
    if (url === this.#url && this.#source) return;
    this.stop();
    this.#url = url;
    this.#connect();
  }

  stop(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    this.#source?.close();
    this.#source = null;
    this.status = 'idle';
    this.recent = [];
  }

  subscribe(fn: Listener): () => void {
    this.#listeners.add(fn);
    return () => this.#listeners.delete(fn);
  }

  #connect(): void {
    this.status = 'connecting';
    const es = new EventSource(this.#url, { withCredentials: true });
    this.#source = es;
    es.onopen = () => {
      this.status = 'live';
      this.#retry = 1000;
    };
    es.onmessage = (m) => this.#deliver(m.data);
    for (const kind of DeviceEvent.options.map((o) => o.shape.kind.value)) {
      es.addEventListener(kind, (m) => this.#deliver((m as MessageEvent<string>).data));
    }
    es.onerror = () => {
      if (es.readyState === EventSource.CLOSED) {
        // Not there (404), not allowed or gone: try again later, slower each time (max 60 s).
        this.status = 'unavailable';
        es.close();
        this.#source = null;
        this.#timer = setTimeout(() => this.#connect(), this.#retry);
        this.#retry = Math.min(this.#retry * 2, 60_000);
      } else {
        this.status = 'connecting';
      }
    };
  }

  #deliver(data: string): void {
    let parsed: DeviceEvent;
    try {
      const r = DeviceEvent.safeParse(JSON.parse(data));
      if (!r.success) return;
      parsed = r.data;
    } catch {
      return;
    }
    this.recent = [parsed, ...this.recent].slice(0, 50);
    for (const fn of this.#listeners) fn(parsed);
  }
}

export const live = new LiveFeed();

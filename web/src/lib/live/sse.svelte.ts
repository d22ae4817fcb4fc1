// The live feed: one EventSource on /api/sse per tab, device events validated with the contracts schema and
// handed to subscribers. Tolerates a server without the endpoint yet (status `unavailable`, retried with
// backoff) so pages work without live updates and pick them up when the pipeline serves them.
// A super admin works in a tenant it names per request (X-Tenant-Id), which an EventSource cannot send: it
// opens the stream with a 60-second SSE token minted for that tenant instead, and since a token is only
// valid when the stream connects, every reconnect fetches a new one and resumes after the last event seen.
import { AlertStreamEvent, DeviceEvent, OperationDto, type SseTokenResponse } from '@tod/contracts';
import { api } from '../api/client';

export type LiveStatus = 'idle' | 'connecting' | 'live' | 'unavailable';
type Listener = (e: DeviceEvent) => void;
type OperationListener = (op: OperationDto) => void;
type AlertListener = (e: AlertStreamEvent) => void;

/** Stream events the hub derives that are not device events: alerts (fired, acknowledged, resolved), stored
 * configuration backups, configuration operations and batch progress. Subscribers get the parsed JSON and
 * validate what they use. */
export const NAMED_EVENTS = ['alert', 'config-backup', 'config-operation', 'config-batch'] as const;
export type NamedEvent = (typeof NAMED_EVENTS)[number];
type NamedListener = (data: unknown) => void;

class LiveFeed {
  status = $state<LiveStatus>('idle');
  /** The newest events, newest first (bounded). */
  recent = $state<DeviceEvent[]>([]);
  #source: EventSource | null = null;
  #listeners = new Set<Listener>();
  #named = new Map<NamedEvent, Set<NamedListener>>();
  #retry = 1000;
  #timer: ReturnType<typeof setTimeout> | null = null;
  /** The tenant a super admin streams (token mode), or null for the cookie's own tenant. */
  #tenant: string | null = null;
  #started = false;
  /** Bumped by every start/stop so a connect still fetching its token gives up. */
  #generation = 0;
  #lastEventId = '';

  start(tenantId: string | null): void {
    if (this.#started && tenantId === this.#tenant) return;
    this.stop();
    this.#started = true;
    this.#tenant = tenantId;
    void this.#connect();
  }

  stop(): void {
    this.#generation++;
    this.#started = false;
    this.#lastEventId = '';
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

  /** Listens to one kind of named stream event (see NAMED_EVENTS). */
  onNamed(name: NamedEvent, fn: NamedListener): () => void {
    let set = this.#named.get(name);
    if (!set) {
      set = new Set();
      this.#named.set(name, set);
    }
    set.add(fn);
    return () => set.delete(fn);
  }

  /** Configuration operations as they move (SSE event `config-operation` carries the operation DTO). */
  subscribeOperations(fn: OperationListener): () => void {
    return this.onNamed('config-operation', (data) => {
      const r = OperationDto.safeParse(data);
      if (r.success) fn(r.data);
    });
  }

  /** Alert changes (SSE event `alert`): fired, resolved, acknowledged. */
  subscribeAlerts(fn: AlertListener): () => void {
    return this.onNamed('alert', (data) => {
      const r = AlertStreamEvent.safeParse(data);
      if (r.success) fn(r.data);
    });
  }

  async #url(): Promise<string> {
    if (!this.#tenant) return '/api/sse';
    const { token } = await api.post<SseTokenResponse>('/api/sse/token');
    const params = new URLSearchParams({ token });
    if (this.#lastEventId) params.set('lastEventId', this.#lastEventId);
    return `/api/sse?${params}`;
  }

  #later(): void {
    this.status = 'unavailable';
    this.#timer = setTimeout(() => void this.#connect(), this.#retry);
    this.#retry = Math.min(this.#retry * 2, 60_000);
  }

  async #connect(): Promise<void> {
    const generation = this.#generation;
    this.status = 'connecting';
    let url: string;
    try {
      url = await this.#url();
    } catch {
      if (generation === this.#generation) this.#later();
      return;
    }
    if (generation !== this.#generation) return;
    const es = new EventSource(url, { withCredentials: true });
    this.#source = es;
    es.onopen = () => {
      this.status = 'live';
      this.#retry = 1000;
    };
    es.onmessage = (m) => this.#deliver(m);
    for (const kind of DeviceEvent.options.map((o) => o.shape.kind.value)) {
      es.addEventListener(kind, (m) => this.#deliver(m as MessageEvent<string>));
    }
    for (const name of NAMED_EVENTS) {
      es.addEventListener(name, (m) => this.#deliverNamed(name, m as MessageEvent<string>));
    }
    es.onerror = () => {
      // Not there (404), not allowed or gone; or, in token mode, any drop (the browser's own reconnect would
      // reuse a spent token): try again later with a new URL, slower each time (max 60 s).
      if (es.readyState === EventSource.CLOSED || this.#tenant) {
        es.close();
        if (this.#source === es) this.#source = null;
        this.#later();
      } else {
        this.status = 'connecting';
      }
    };
  }

  #deliverNamed(name: NamedEvent, m: MessageEvent<string>): void {
    if (m.lastEventId) this.#lastEventId = m.lastEventId;
    let data: unknown;
    try {
      data = JSON.parse(m.data);
    } catch {
      return;
    }
    for (const fn of this.#named.get(name) ?? []) fn(data);
  }

  #deliver(m: MessageEvent<string>): void {
    if (m.lastEventId) this.#lastEventId = m.lastEventId;
    let parsed: DeviceEvent;
    try {
      const r = DeviceEvent.safeParse(JSON.parse(m.data));
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

// A test-side SSE client over Node's fetch: parses the stream into events (and comments) as they arrive and
// lets a test wait for the one it expects, without sleeping.
import type { Session } from './client';

export interface SseEvent {
  id: string | null;
  event: string;
  data: string;
}

export class SseClient {
  readonly events: SseEvent[] = [];
  readonly comments: string[] = [];
  status = 0;
  private readonly abort = new AbortController();
  private waiters: (() => void)[] = [];
  private ended = false;

  static async open(
    session: Session,
    path: string,
    headers: Record<string, string> = {},
  ): Promise<SseClient> {
    const client = new SseClient();
    const res = await session.fetch(path, {
      headers: { accept: 'text/event-stream', ...headers },
      signal: client.abort.signal,
    });
    client.status = res.status;
    if (res.status !== 200 || !res.body) {
      client.body = await res.text();
      client.ended = true;
      return client;
    }
    void client.read(res.body);
    return client;
  }

  body = '';

  private async read(body: ReadableStream<Uint8Array>): Promise<void> {
    const decoder = new TextDecoder();
    let buf = '';
    try {
      for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
        buf += decoder.decode(chunk, { stream: true });
        let end = buf.indexOf('\n\n');
        while (end >= 0) {
          this.frame(buf.slice(0, end));
          buf = buf.slice(end + 2);
          end = buf.indexOf('\n\n');
        }
        this.notify();
      }
    } catch {
      // aborted
    } finally {
      this.ended = true;
      this.notify();
    }
  }

  private frame(text: string): void {
    let id: string | null = null;
    let event = 'message';
    const data: string[] = [];
    let hasField = false;
    for (const line of text.split('\n')) {
      if (line.startsWith(':')) {
        this.comments.push(line.slice(1).trim());
        continue;
      }
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'id') id = value;
      else if (field === 'event') event = value;
      else if (field === 'data') data.push(value);
      else continue;
      hasField = true;
    }
    if (hasField && data.length > 0) this.events.push({ id, event, data: data.join('\n') });
  }

  private notify(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /** Resolves once `done()` holds, re-checked on every chunk; fails after `timeoutMs`. */
  async until<T>(done: () => T | undefined | false, timeoutMs = 15_000, what = 'condition'): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const v = done();
      if (v) return v;
      if (this.ended) throw new Error(`SSE stream ended before ${what} (status ${this.status} ${this.body})`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** Device events of the stream (not the snapshot), parsed. */
  deviceEvents(): { id: string; event: string; body: { id: string; kind: string; deviceId: string } }[] {
    return this.events
      .filter((e) => e.id !== null)
      .map((e) => ({ id: e.id!, event: e.event, body: JSON.parse(e.data) }));
  }

  close(): void {
    this.abort.abort();
  }
}

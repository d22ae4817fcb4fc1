// The tenant's firing alerts for the dashboard card: the newest page from the API, then kept current by the
// live feed (fired alerts join, resolved ones leave, acknowledgements update in place).
import type { Alert, AlertStreamEvent } from '@tod/contracts';
import { api } from '../api/client';
import { live } from '../live/sse.svelte';

const LIMIT = 200;

class ActiveAlerts {
  list = $state.raw<Alert[]>([]);
  loaded = $state(false);
  /** More firing alerts exist than the page loaded. */
  more = $state(false);
  #tenant: string | null = null;
  #unsubscribe: (() => void) | null = null;

  async ensure(tenantId: string | null): Promise<void> {
    if (!tenantId || this.#tenant === tenantId) return;
    this.#tenant = tenantId;
    this.loaded = false;
    this.list = [];
    this.#unsubscribe ??= live.subscribeAlerts((e) => this.#onEvent(e));
    const page = await api.get<{ items: Alert[]; nextCursor: string | null }>(
      `/api/alerts?state=firing&limit=${LIMIT}`,
    );
    if (this.#tenant !== tenantId) return;
    this.list = page.items;
    this.more = page.nextCursor !== null;
    this.loaded = true;
  }

  #onEvent(e: AlertStreamEvent): void {
    const rest = this.list.filter((a) => a.id !== e.alert.id);
    this.list = e.alert.state === 'firing' ? [e.alert, ...rest] : rest;
  }
}

export const activeAlerts = new ActiveAlerts();

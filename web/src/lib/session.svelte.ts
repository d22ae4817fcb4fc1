// Who is signed in (GET /api/auth/me), which tenant a super admin works in, and the in-place re-sign-in
// when a session can no longer be refreshed.
import type { Me, Tenant } from '@tod/contracts';
import { ApiError, api, listAll, setApiHooks } from './api/client';

const TENANT_KEY = 'tod.tenant';

class Session {
  me = $state<Me | null>(null);
  /** A super admin's chosen tenant; tenant users are fixed to their own. */
  tenantId = $state<string | null>(null);
  tenants = $state<Tenant[]>([]);
  /** Set while the API waits for the user to sign in again (the dialog shows). */
  reauth = $state<{ resolve: () => void } | null>(null);

  get role() {
    return this.me?.role ?? null;
  }
  get isSuperAdmin() {
    return this.me?.role === 'super_admin';
  }
  get tenant(): Tenant | null {
    return this.tenants.find((t) => t.id === this.tenantId) ?? null;
  }

  /** Loads the principal; false when nobody is signed in. */
  async load(): Promise<boolean> {
    try {
      this.me = await api.get<Me>('/api/auth/me', { noReauth: true });
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) {
        this.me = null;
        return false;
      }
      throw err;
    }
    await this.loadTenants();
    return true;
  }

  async loadTenants(): Promise<void> {
    if (!this.me) return;
    if (this.me.role !== 'super_admin') {
      this.tenantId = this.me.tenantId;
      return;
    }
    this.tenants = await listAll<Tenant>('/api/tenants');
    const saved = localStorage.getItem(TENANT_KEY);
    const pick = this.tenants.find((t) => t.id === saved) ?? this.tenants[0] ?? null;
    this.tenantId = pick?.id ?? null;
  }

  selectTenant(id: string): void {
    this.tenantId = id;
    localStorage.setItem(TENANT_KEY, id);
  }

  signedIn(me: Me): void {
    this.me = me;
    const pending = this.reauth;
    this.reauth = null;
    pending?.resolve();
  }

  clear(): void {
    this.me = null;
    this.tenants = [];
    this.tenantId = null;
  }
}

export const session = new Session();

setApiHooks({
  tenantHeader: () => (session.isSuperAdmin ? session.tenantId : null),
  reauthenticate: () =>
    new Promise<void>((resolve) => {
      if (session.reauth) {
        const prev = session.reauth.resolve;
        session.reauth = {
          resolve: () => {
            prev();
            resolve();
          },
        };
      } else {
        session.reauth = { resolve };
      }
    }),
});

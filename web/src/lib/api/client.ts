// The portal's typed API client: same-origin fetch to /api (the web Worker forwards it to the edge), the
// super admin's tenant in X-Tenant-Id, and session expiry handled in place: an expired access token is
// refreshed once (rotating refresh cookie), and when the refresh fails too the caller waits while the user
// signs in again in a dialog, then the request is retried, so the page and its unsaved input survive.
import type { ApiErrorBody } from '@tod/contracts';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: { path: string; message: string }[] = [],
  ) {
    super(message);
  }
}

export interface ApiHooks {
  /** The tenant a super admin is working in (sent as X-Tenant-Id), or null. */
  tenantHeader(): string | null;
  /** Called when the session cannot be refreshed; resolves once the user signed in again. */
  reauthenticate(): Promise<void>;
}

let hooks: ApiHooks = {
  tenantHeader: () => null,
  reauthenticate: () => Promise.reject(new ApiError(401, 'unauthenticated', 'sign in again')),
};

export function setApiHooks(h: ApiHooks): void {
  hooks = h;
}

let refreshing: Promise<boolean> | null = null;

/** Rotates the refresh cookie once for all concurrent callers. */
export function refreshSession(): Promise<boolean> {
  refreshing ??= fetch('/api/auth/refresh', { method: 'POST', credentials: 'same-origin' })
    .then((r) => r.ok)
    .catch(() => false)
    .finally(() => {
      refreshing = null;
    });
  return refreshing;
}

export interface RequestOptions {
  body?: unknown;
  /** Raw body with its content type (CSV import). */
  raw?: { body: string; contentType: string };
  /** Do not wait for a new sign-in on 401 (used by the sign-in flow itself). */
  noReauth?: boolean;
  signal?: AbortSignal;
}

async function errorOf(res: Response): Promise<ApiError> {
  let body: Partial<ApiErrorBody> | null = null;
  try {
    body = (await res.json()) as Partial<ApiErrorBody>;
  } catch {
    // not JSON: fall through to the status text
  }
  const e = body?.error;
  return new ApiError(
    res.status,
    e?.code ?? 'http_error',
    e?.message ?? `${res.status} ${res.statusText}`,
    e?.details ?? [],
  );
}

/** The raw response of a successful request (after refresh / re-sign-in); throws ApiError otherwise. */
export async function requestResponse(
  method: string,
  path: string,
  opts: RequestOptions = {},
): Promise<Response> {
  const send = () => {
    const headers: Record<string, string> = { accept: 'application/json' };
    const tenant = hooks.tenantHeader();
    if (tenant) headers['x-tenant-id'] = tenant;
    let body: string | undefined;
    if (opts.raw) {
      headers['content-type'] = opts.raw.contentType;
      body = opts.raw.body;
    } else if (opts.body !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(opts.body);
    }
    return fetch(path, { method, headers, body, credentials: 'same-origin', signal: opts.signal });
  };
  let res = await send();
  if (res.status === 401 && !opts.noReauth) {
    const err = await errorOf(res);
    if (err.code === 'token_expired' || err.code === 'unauthenticated') {
      if (await refreshSession()) {
        res = await send();
      }
      if (res.status === 401) {
        await hooks.reauthenticate();
        res = await send();
      }
    } else {
      throw err;
    }
  }
  if (!res.ok) throw await errorOf(res);
  return res;
}

export async function request<T>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
  const res = await requestResponse(method, path, opts);
  if (res.status === 204) return undefined as T;
  return (await res.json()) as T;
}

/** Downloads a file the API serves (e.g. a CSV export) under the given name. */
export async function downloadFile(path: string, filename: string): Promise<void> {
  const res = await requestResponse('GET', path);
  const url = URL.createObjectURL(await res.blob());
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

export const api = {
  get: <T>(path: string, opts?: RequestOptions) => request<T>('GET', path, opts),
  post: <T>(path: string, body?: unknown, opts?: RequestOptions) =>
    request<T>('POST', path, { ...opts, body }),
  patch: <T>(path: string, body: unknown, opts?: RequestOptions) =>
    request<T>('PATCH', path, { ...opts, body }),
  put: <T>(path: string, body: unknown, opts?: RequestOptions) => request<T>('PUT', path, { ...opts, body }),
  delete: <T>(path: string, opts?: RequestOptions) => request<T>('DELETE', path, opts),
};

/** Every page of a keyset-paginated list (limit 200), calling onPage as pages arrive. */
export async function listAll<T>(
  path: string,
  params: Record<string, string | undefined> = {},
  onPage?: (items: T[]) => void,
  signal?: AbortSignal,
): Promise<T[]> {
  const all: T[] = [];
  let cursor: string | null = null;
  do {
    const q = new URLSearchParams({ limit: '200' });
    for (const [k, v] of Object.entries(params)) if (v !== undefined) q.set(k, v);
    if (cursor) q.set('cursor', cursor);
    const page: { items: T[]; nextCursor: string | null } = await api.get(`${path}?${q}`, { signal });
    all.push(...page.items);
    onPage?.(page.items);
    cursor = page.nextCursor;
  } while (cursor);
  return all;
}

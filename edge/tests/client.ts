// Test-side API client: logs in exactly as the browser does (contracts/srp), keeps cookies per principal,
import { ApiErrorBody } from '@tod/contracts';
// and spreads auth calls over distinct client IPs so the 5/min auth limit only bites where a test wants it.
import {
  computeLoginProof,
  createEnrolment,
  generateSecretKey,
  type SecretKey,
  startLogin,
  verifyServerProof,
} from '@tod/contracts/srp';
import { expect } from 'vitest';
import type { EdgeHandle } from '../../tests/env/edge';

export const TEST_ITERATIONS = 1000;
let ipCounter = 1;
export function freshIp(): string {
  const n = ipCounter++;
  return `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`;
}

export interface Account {
  email: string;
  password: string;
  secretKey: SecretKey;
  iterations?: number;
}

export function newAccount(email: string, password = 'correct horse battery staple'): Account {
  return { email, password, secretKey: generateSecretKey(), iterations: TEST_ITERATIONS };
}

/** The raw Set-Cookie lines (Node's fetch; the Workers types lack getSetCookie). */
export function setCookieLines(res: Response): string[] {
  return (res.headers as unknown as { getSetCookie(): string[] }).getSetCookie();
}

/** Cookies from Set-Cookie headers, as a Cookie header value map. */
export function cookiesOf(res: Response): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of setCookieLines(res)) {
    const [pair] = line.split(';');
    const eq = pair!.indexOf('=');
    out[pair!.slice(0, eq).trim()] = pair!.slice(eq + 1).trim();
  }
  return out;
}

export class Session {
  cookies: Record<string, string> = {};
  constructor(
    readonly edge: EdgeHandle,
    readonly headers: Record<string, string> = {},
  ) {}

  cookieHeader(): string {
    return Object.entries(this.cookies)
      .filter(([, v]) => v !== '')
      .map(([k, v]) => `${k}=${v}`)
      .join('; ');
  }

  async fetch(path: string, init: RequestInit & { json?: unknown } = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    for (const [k, v] of Object.entries(this.headers)) if (!headers.has(k)) headers.set(k, v);
    const cookie = this.cookieHeader();
    if (cookie && !headers.has('cookie')) headers.set('cookie', cookie);
    if (!headers.has('cf-connecting-ip')) headers.set('cf-connecting-ip', freshIp());
    let body = init.body;
    if (init.json !== undefined) {
      headers.set('content-type', 'application/json');
      body = JSON.stringify(init.json);
    }
    const res = await this.edge.fetch(path, { ...init, headers, body });
    Object.assign(this.cookies, cookiesOf(res));
    return res;
  }

  get(path: string) {
    return this.fetch(path);
  }
  post(path: string, json?: unknown) {
    return this.fetch(path, { method: 'POST', json });
  }
  patch(path: string, json?: unknown) {
    return this.fetch(path, { method: 'PATCH', json });
  }
  put(path: string, json?: unknown) {
    return this.fetch(path, { method: 'PUT', json });
  }
  delete(path: string) {
    return this.fetch(path, { method: 'DELETE' });
  }
}

/** The full browser-side login: init, proof, check of the server's proof. */
export async function login(
  edge: EdgeHandle,
  account: Account,
  headers: Record<string, string> = {},
): Promise<Session> {
  const s = new Session(edge, headers);
  const init = await s.post('/api/auth/srp/init', { email: account.email });
  expect(init.status, await init.clone().text()).toBe(200);
  const { handshakeId, salt, B } = (await init.json()) as { handshakeId: string; salt: string; B: string };
  const start = startLogin();
  const proof = await computeLoginProof(account, start, { salt, B });
  const res = await s.post('/api/auth/srp/verify', { handshakeId, A: start.A, M1: proof.M1 });
  expect(res.status, await res.clone().text()).toBe(200);
  const body = (await res.json()) as { M2: string };
  expect(verifyServerProof(proof, body.M2)).toBe(true);
  return s;
}

export async function bootstrap(
  edge: EdgeHandle,
  account: Account,
  bootstrapPassword: string,
): Promise<Response> {
  const enrolment = await createEnrolment(account);
  return new Session(edge).post('/api/auth/bootstrap', {
    email: account.email,
    password: bootstrapPassword,
    enrolment,
  });
}

/** Invites `email` as `role` through `admin` and accepts with a fresh Secret Key; returns a logged-in session. */
export async function inviteAndLogin(
  edge: EdgeHandle,
  admin: Session,
  email: string,
  role: 'admin' | 'operator' | 'viewer',
): Promise<{ session: Session; account: Account; userId: string }> {
  const inv = await admin.post('/api/invitations', { email, role });
  expect(inv.status, await inv.clone().text()).toBe(201);
  const { token } = (await inv.json()) as { token: string };
  const account = newAccount(email);
  const enrolment = await createEnrolment(account);
  const acc = await new Session(edge).post('/api/auth/invitations/accept', { token, name: email, enrolment });
  expect(acc.status, await acc.clone().text()).toBe(201);
  const { userId } = (await acc.json()) as { userId: string };
  return { session: await login(edge, account), account, userId };
}

/** The `error.code` of an API error response (fails the test when the body is not the error shape). */
export async function errorCode(res: Response): Promise<string> {
  return ApiErrorBody.parse(await res.json()).error.code;
}

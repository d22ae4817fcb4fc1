// A two-tenant world for the API tests: the bootstrap super admin, tenants A and B, one user per role in A
// (invited and logged in through the real flows), an admin in B, and API keys of A.
import postgres from 'postgres';
import { expect } from 'vitest';
import type { NatsHandle } from '../../scripts/services/nats';
import { freshDatabase, freshNats } from '../../tests/env';
import { type EdgeHandle, startEdge, TEST_SECRETS } from '../../tests/env/edge';
import { bootstrap, inviteAndLogin, login, newAccount, Session } from './client';

export const ROOT_EMAIL = 'root@tod.test';
const BOOTSTRAP_PASSWORD = 'bootstrap-password-123';

export interface World {
  edge: EdgeHandle;
  /** nats://… for Node clients, when the world was created with NATS */
  natsUrl: string | null;
  /** The nats-server, when the world was created with NATS (`nats.auth` set with `nats: 'auth'`). */
  nats: NatsHandle | null;
  sql: postgres.Sql;
  tenantA: string;
  tenantB: string;
  root: Session;
  rootIn(tenant: string): Session;
  a: { admin: Session; operator: Session; viewer: Session; keyOperator: Session; keyViewer: Session };
  b: { admin: Session };
  userIds: Record<string, string>;
  keys: { operator: string; viewer: string };
}

/** `nats: 'auth'` runs NATS with JWT auth and gives the edge the account signing key to issue credentials. */
export async function createWorld(opts: { nats?: boolean | 'auth' } = {}): Promise<World> {
  const [db, nats] = await Promise.all([
    freshDatabase(),
    opts.nats ? freshNats({ auth: opts.nats === 'auth' }) : Promise.resolve(null),
  ]);
  const sql = postgres(db.superUrl, { max: 2, onnotice: () => {} });
  const edge = await startEdge({
    DATABASE_URL: db.appUrl,
    NATS_WS_URL: nats?.wsUrl ?? 'ws://127.0.0.1:1',
    ...(nats ? { NATS_URL: nats.url } : {}),
    ...(nats?.auth?.edgeVars ?? {}),
    FIRST_ADMIN_EMAIL: ROOT_EMAIL,
    FIRST_ADMIN_PASSWORD: BOOTSTRAP_PASSWORD,
    ...TEST_SECRETS,
  });
  const rootAccount = newAccount(ROOT_EMAIL);
  // srp/init creates the first admin; bootstrap enrols it.
  await new Session(edge).post('/api/auth/srp/init', { email: ROOT_EMAIL });
  expect((await bootstrap(edge, rootAccount, BOOTSTRAP_PASSWORD)).status).toBe(200);
  const root = await login(edge, rootAccount);
  const rootIn = (tenant: string) => {
    const s = new Session(edge, { 'x-tenant-id': tenant });
    s.cookies = root.cookies;
    return s;
  };
  const mk = async (slug: string) => {
    const res = await root.post('/api/tenants', { name: slug.toUpperCase(), slug });
    expect(res.status, await res.clone().text()).toBe(201);
    return ((await res.json()) as { id: string }).id;
  };
  const tenantA = await mk('acme');
  const tenantB = await mk('bravo');
  const adminA = await inviteAndLogin(edge, rootIn(tenantA), 'admin@a.test', 'admin');
  const operatorA = await inviteAndLogin(edge, adminA.session, 'operator@a.test', 'operator');
  const viewerA = await inviteAndLogin(edge, adminA.session, 'viewer@a.test', 'viewer');
  const adminB = await inviteAndLogin(edge, rootIn(tenantB), 'admin@b.test', 'admin');
  const mkKey = async (role: 'operator' | 'viewer') => {
    const res = await adminA.session.post('/api/api-keys', { name: `${role} key`, role });
    expect(res.status, await res.clone().text()).toBe(201);
    return ((await res.json()) as { key: string }).key;
  };
  const keys = { operator: await mkKey('operator'), viewer: await mkKey('viewer') };
  return {
    edge,
    natsUrl: nats?.url ?? null,
    nats,
    sql,
    tenantA,
    tenantB,
    root,
    rootIn,
    a: {
      admin: adminA.session,
      operator: operatorA.session,
      viewer: viewerA.session,
      keyOperator: new Session(edge, { 'x-api-key': keys.operator }),
      keyViewer: new Session(edge, { 'x-api-key': keys.viewer }),
    },
    b: { admin: adminB.session },
    userIds: {
      adminA: adminA.userId,
      operatorA: operatorA.userId,
      viewerA: viewerA.userId,
      adminB: adminB.userId,
    },
    keys,
  };
}

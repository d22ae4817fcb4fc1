// The demo fleet of `npm start`: 50 simulated RouterOS devices on loopback, polled by a real collector enrolled
// through the edge, in a tenant of its own ("Demo MSP") with its own admin, so the first-admin bootstrap stays
// the operator's. Everything after seeding the tenant and one invitation goes through the public API exactly as
// an MSP would: accept the invitation (SRP enrolment), log in, create the collector, enrol it, add devices.
// State (the demo admin's login, an operator API key, the collector's state) is kept under <data dir>/demo, so
// a restart reuses the tenant and only points the devices at the fleet's new ports.
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import {
  computeLoginProof,
  createEnrolment,
  formatSecretKey,
  generateSecretKey,
  parseSecretKey,
  startLogin,
  verifyServerProof,
} from '@tod/contracts/srp';
import pino from 'pino';
import postgres from 'postgres';
import { importExportKey } from '../collector/src/backup/seal';
import { Collector, type CollectorIdentity } from '../collector/src/collector';
import { loadCollectorConfig } from '../collector/src/config';
import { enroll } from '../collector/src/enroll';
import { NatsCredentials } from '../collector/src/nats-credentials';
import { ensureEventStream } from '../collector/src/relay/relay';
import { identityFromState, loadState, statePath } from '../collector/src/state';
import type { FaultSet } from '../simulator/src/faults/faults';
import { type DeviceOverride, type Fleet, startFleet } from '../simulator/src/fleet';

export const DEMO_DEVICES = 50;
const DEMO_SLUG = 'demo';
const DEVICE_USER = 'tod-demo';

export interface DemoHandle {
  tenantId: string;
  collectorId: string;
  devices: number;
  /** The demo tenant's admin, for the portal. */
  adminEmail: string;
  adminPassword: string;
  secretKey: string;
  /** Operator API key of the demo tenant (x-api-key). */
  apiKey: string;
  collector: Collector;
  stop(): Promise<void>;
}

interface DemoState {
  email: string;
  password: string;
  secretKey: string;
  tenantId?: string;
  apiKey?: string;
  collectorId?: string;
}

export interface DemoOptions {
  portalUrl: string;
  dataDir: string;
  /** Owner (or superuser) URL of the database: seeds the demo tenant and its admin's invitation. */
  ownerDbUrl: string;
  natsUrl: string;
  log: (line: string) => void;
}

/** Which devices misbehave, for realism: the rest are healthy. Indexes into the fleet. */
const FAULTY: Record<number, { fault: FaultSet; why: string }> = {
  44: { fault: { latencyMs: 1500 }, why: 'slow link' },
  46: { fault: { unreachable: true }, why: 'offline' },
  47: { fault: { unreachable: true }, why: 'offline' },
  48: { fault: { refuseLogin: true }, why: 'wrong password' },
  49: { fault: { dropMidSentence: true }, why: 'flaky (drops replies)' },
};

/** Personalities beyond the default board rotation: newer RouterOS (with its !empty replies), older ones. */
function overrides(): Record<number, DeviceOverride> {
  const out: Record<number, DeviceOverride> = {};
  for (let i = 0; i < DEMO_DEVICES; i++) {
    if (i % 10 === 3) out[i] = { version: '7.19.4', emptyReply: true };
    else if (i % 10 === 8) out[i] = { version: '7.12.1' };
  }
  return out;
}

export async function startDemo(opts: DemoOptions): Promise<DemoHandle> {
  const dir = join(opts.dataDir, 'demo');
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const state = await loadDemoState(dir);
  const devicePassword = createHash('sha256').update(`${state.password}/devices`).digest('base64url');
  const fleet = await startFleet({
    devices: DEMO_DEVICES,
    tls: false,
    adminPassword: randomBytes(12).toString('base64url'),
    users: [{ name: DEVICE_USER, password: devicePassword, group: 'full' }],
    overrides: overrides(),
  });
  let nc: NatsConnection | undefined;
  let collector: Collector | undefined;
  let credentials: NatsCredentials | undefined;
  try {
    for (const [i, { fault }] of Object.entries(FAULTY)) await fleet.device(Number(i)).setFaults(fault);
    const api = new DemoApi(opts.portalUrl);
    const collectorDir = join(dir, 'collector');
    if (!state.tenantId || !state.apiKey || !(await tenantExists(opts.ownerDbUrl, state.tenantId))) {
      state.tenantId = await seedTenant(opts.ownerDbUrl, state, api);
      await api.login(state);
      state.apiKey = await api.createApiKey();
      state.collectorId = undefined;
      await saveDemoState(dir, state);
      opts.log(`demo: created tenant "Demo MSP" and its admin ${state.email}`);
    }
    if (!state.collectorId || !existsSync(statePath(collectorDir))) {
      if (!api.loggedIn) await api.login(state);
      const { id, enrollToken } = await api.createCollector();
      await enroll({ edgeUrl: opts.portalUrl, token: enrollToken, stateDir: collectorDir, version: 'demo' });
      state.collectorId = id;
      await saveDemoState(dir, state);
      opts.log(`demo: enrolled collector ${id}`);
    }
    const keyed = new DemoApi(opts.portalUrl, { 'x-api-key': state.apiKey });
    await syncDevices(keyed, fleet, state.collectorId, devicePassword);

    const cState = await loadState(collectorDir);
    const identity: CollectorIdentity = await identityFromState(cState);
    const config = loadCollectorConfig({ TOD_COLLECTOR_STATE_DIR: collectorDir, LOG_LEVEL: 'error' });
    credentials = cState.nats
      ? new NatsCredentials(cState, {
          stateDir: collectorDir,
          onError: (err) => opts.log(`demo: ${err.message}`),
          onExportKey: (jwk) => {
            importExportKey(jwk).then(
              (key) => {
                identity.exportKey = key;
              },
              (err: unknown) => opts.log(`demo: export key unusable: ${(err as Error).message}`),
            );
          },
        })
      : undefined;
    credentials?.start();
    nc = await connect({
      servers: opts.natsUrl,
      ...(credentials?.connectOptions() ?? {}),
      name: `tod-collector-${cState.collectorId}`,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 1000,
    });
    const logger = pino({ level: config.LOG_LEVEL, base: { service: 'tod-demo-collector' } });
    await ensureEventStream(nc).catch(() => undefined);
    collector = new Collector({
      nc,
      identity,
      config,
      logger,
    });
    await collector.start();
    const running = collector;
    const conn = nc;
    return {
      tenantId: state.tenantId,
      collectorId: state.collectorId,
      devices: DEMO_DEVICES,
      adminEmail: state.email,
      adminPassword: state.password,
      secretKey: state.secretKey,
      apiKey: state.apiKey,
      collector: running,
      async stop() {
        await running.stop(5000).catch(() => undefined);
        credentials?.stop();
        await conn.close().catch(() => undefined);
        await fleet.stop();
      },
    };
  } catch (err) {
    await collector?.stop(1000).catch(() => undefined);
    credentials?.stop();
    await nc?.close().catch(() => undefined);
    await fleet.stop();
    throw err;
  }
}

async function loadDemoState(dir: string): Promise<DemoState> {
  const file = join(dir, 'demo.json');
  if (existsSync(file)) return JSON.parse(await readFile(file, 'utf8')) as DemoState;
  const state: DemoState = {
    email: 'demo-admin@tod.local',
    password: randomBytes(12).toString('base64url'),
    secretKey: formatSecretKey(generateSecretKey()),
  };
  await saveDemoState(dir, state);
  return state;
}

async function saveDemoState(dir: string, state: DemoState): Promise<void> {
  await writeFile(join(dir, 'demo.json'), JSON.stringify(state, null, 2) + '\n', { mode: 0o600 });
}

async function tenantExists(ownerDbUrl: string, tenantId: string): Promise<boolean> {
  const sql = postgres(ownerDbUrl, { max: 1, onnotice: () => {} });
  try {
    return (await sql`SELECT 1 FROM tenants WHERE id = ${tenantId}`).length > 0;
  } finally {
    await sql.end({ timeout: 5 });
  }
}

/** The one step the API cannot do without the first admin: a tenant and an invitation for its admin (as the
 * schema owner, which RLS does not bind). The admin then accepts it through the API. */
async function seedTenant(ownerDbUrl: string, state: DemoState, api: DemoApi): Promise<string> {
  const token = `tinv_demo_${randomBytes(24).toString('base64url')}`;
  const sql = postgres(ownerDbUrl, { max: 1, onnotice: () => {} });
  let tenantId: string;
  try {
    tenantId = await sql.begin(async (tx) => {
      const existing = await tx<{ id: string }[]>`SELECT id FROM tenants WHERE slug = ${DEMO_SLUG}`;
      const id =
        existing[0]?.id ??
        (
          await tx<
            { id: string }[]
          >`INSERT INTO tenants (name, slug) VALUES ('Demo MSP', ${DEMO_SLUG}) RETURNING id`
        )[0]!.id;
      // A previous demo admin (state lost): start over with a fresh one.
      await tx`DELETE FROM users WHERE lower(email) = ${state.email}`;
      await tx`INSERT INTO invitations (tenant_id, email, role, token_hash, expires_at)
        VALUES (${id}, ${state.email}, 'admin', ${createHash('sha256').update(token).digest()}, now() + interval '1 hour')`;
      return id;
    });
  } finally {
    await sql.end({ timeout: 5 });
  }
  await api.acceptInvitation(token, state);
  return tenantId;
}

/** Creates the fleet's devices in the demo tenant, or points existing ones at the fleet's current ports. */
async function syncDevices(api: DemoApi, fleet: Fleet, collectorId: string, password: string): Promise<void> {
  const existing = new Map<string, string>();
  let cursor: string | null = null;
  do {
    const page = (await api.call(
      'GET',
      `/api/devices?limit=200${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
    )) as { items: { id: string; name: string }[]; nextCursor: string | null };
    for (const d of page.items) existing.set(d.name, d.id);
    cursor = page.nextCursor;
  } while (cursor);
  for (const d of fleet.manifest.devices) {
    const name = `demo-${String(d.index + 1).padStart(2, '0')}-${d.board}`;
    const body = {
      host: d.host,
      port: d.port,
      tlsMode: 'plain',
      collectorId,
      credentials: { username: DEVICE_USER, password },
      notes: FAULTY[d.index] ? `demo: ${FAULTY[d.index]!.why}` : `demo: ${d.model}, RouterOS ${d.version}`,
    };
    const id = existing.get(name);
    if (id) await api.call('PATCH', `/api/devices/${id}`, body);
    else await api.call('POST', '/api/devices', { name, ...body });
  }
}

/** A minimal API client for the demo set-up: JSON in and out, cookies kept, errors thrown with their message. */
class DemoApi {
  private cookies = new Map<string, string>();
  loggedIn = false;

  constructor(
    private readonly baseUrl: string,
    private readonly headers: Record<string, string> = {},
  ) {}

  async call(method: string, path: string, body?: unknown): Promise<unknown> {
    const headers: Record<string, string> = { ...this.headers };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (this.cookies.size) headers.cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    const res = await fetch(this.baseUrl + path, {
      method,
      headers,
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      signal: AbortSignal.timeout(30_000),
    });
    for (const line of res.headers.getSetCookie()) {
      const pair = line.split(';')[0]!;
      const eq = pair.indexOf('=');
      this.cookies.set(pair.slice(0, eq).trim(), pair.slice(eq + 1).trim());
    }
    const text = await res.text();
    if (!res.ok) {
      let message = text.slice(0, 200);
      try {
        message = (JSON.parse(text) as { error?: { message?: string } }).error?.message ?? message;
      } catch {
        // not JSON
      }
      throw new Error(`demo set-up: ${method} ${path} answered ${res.status}: ${message}`);
    }
    return text ? JSON.parse(text) : null;
  }

  async acceptInvitation(token: string, state: DemoState): Promise<void> {
    const enrolment = await createEnrolment(credentials(state));
    await this.call('POST', '/api/auth/invitations/accept', { token, name: 'Demo admin', enrolment });
  }

  /** SRP login as the browser does it; the server's proof is checked too. */
  async login(state: DemoState): Promise<void> {
    const init = (await this.call('POST', '/api/auth/srp/init', { email: state.email })) as {
      handshakeId: string;
      salt: string;
      B: string;
    };
    const start = startLogin();
    const proof = await computeLoginProof(credentials(state), start, init);
    const { M2 } = (await this.call('POST', '/api/auth/srp/verify', {
      handshakeId: init.handshakeId,
      A: start.A,
      M1: proof.M1,
    })) as { M2: string };
    if (!verifyServerProof(proof, M2)) throw new Error('demo set-up: the edge failed the SRP server proof');
    this.loggedIn = true;
  }

  async createApiKey(): Promise<string> {
    const res = (await this.call('POST', '/api/api-keys', { name: 'demo set-up', role: 'operator' })) as {
      key: string;
    };
    return res.key;
  }

  async createCollector(): Promise<{ id: string; enrollToken: string }> {
    return (await this.call('POST', '/api/collectors', { name: 'demo-site', site: 'Demo site' })) as {
      id: string;
      enrollToken: string;
    };
  }
}

function credentials(state: DemoState) {
  return { email: state.email, password: state.password, secretKey: parseSecretKey(state.secretKey) };
}

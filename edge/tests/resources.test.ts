// Resource behaviour from outside: device credentials write-only and encrypted at rest, keyset pagination,
// API keys, collectors' enrol tokens, audit list and CSV export, KMS transparency.
import { computeLoginProof, startLogin } from '@tod/contracts/srp';
import { exportJWK, generateKeyPair } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { TEST_SECRETS } from '../../tests/env/edge';
import { errorCode, inviteAndLogin, Session } from './client';
import { createWorld, type World } from './fixtures';

let w: World;
beforeAll(async () => {
  w = await createWorld();
  return () => w.sql.end();
});

const DEVICE_PASSWORD = 'S3cret-Device-Passw0rd';

describe('devices', () => {
  it('accepts credentials but never returns them, and stores them encrypted with the tenant key', async () => {
    const res = await w.a.operator.post('/api/devices', {
      name: 'core-router',
      host: '192.0.2.10',
      port: 8729,
      tlsMode: 'self_signed',
      credentials: { username: 'tod-admin', password: DEVICE_PASSWORD },
    });
    expect(res.status).toBe(201);
    const text = await res.text();
    expect(text).not.toContain(DEVICE_PASSWORD);
    expect(text).not.toContain('tod-admin');
    const device = JSON.parse(text) as { id: string; hasCredentials: boolean };
    expect(device.hasCredentials).toBe(true);
    for (const path of [
      `/api/devices/${device.id}`,
      '/api/devices',
      '/api/audit-logs',
      '/api/audit-logs/export.csv',
    ]) {
      const r = await w.a.admin.get(path);
      expect(r.status).toBe(200);
      const body = await r.text();
      expect(body, path).not.toContain(DEVICE_PASSWORD);
    }
    const [row] = await w.sql<{ enc: Buffer; v: number }[]>`
      SELECT credentials_enc AS enc, credentials_key_version AS v FROM devices WHERE id = ${device.id}`;
    expect(row!.v).toBe(1);
    expect(row!.enc.includes(Buffer.from(DEVICE_PASSWORD))).toBe(false);
    expect(row!.enc[0]).toBe(1);
    const [key] =
      await w.sql`SELECT kms, length(wrapped_key) AS len FROM tenant_keys WHERE tenant_id = ${w.tenantA}`;
    expect(key).toEqual({ kms: 'local', len: 12 + 32 + 16 });
    const audit = await w.sql<{ details_enc: Buffer }[]>`
      SELECT details_enc FROM audit_log WHERE action = 'device.create' AND target_id = ${device.id}`;
    expect(audit).toHaveLength(1);
    expect(audit[0]!.details_enc.includes(Buffer.from('core-router'))).toBe(false);
  });

  it('clears credentials with null and keeps them on unrelated updates', async () => {
    const res = await w.a.operator.post('/api/devices', {
      name: 'edge-1',
      host: '192.0.2.11',
      credentials: { username: 'u', password: 'p' },
    });
    const { id } = (await res.json()) as { id: string };
    const kept = await w.a.operator.patch(`/api/devices/${id}`, { notes: 'rack 4' });
    expect(((await kept.json()) as { hasCredentials: boolean }).hasCredentials).toBe(true);
    const cleared = await w.a.operator.patch(`/api/devices/${id}`, { credentials: null });
    expect(((await cleared.json()) as { hasCredentials: boolean }).hasCredentials).toBe(false);
  });

  it('pages through a tenant with keyset cursors, sorted and filtered', async () => {
    const [tenant] = await w.sql<
      { id: string }[]
    >`INSERT INTO tenants (name, slug) VALUES ('Paging', 'paging') RETURNING id`;
    const t = tenant!.id;
    await w.sql`
      INSERT INTO devices (tenant_id, name, host, status)
      SELECT ${t}, 'dev-' || lpad(i::text, 4, '0'), '10.0.' || (i / 250) || '.' || (i % 250),
             CASE WHEN i % 3 = 0 THEN 'online' ELSE 'offline' END
      FROM generate_series(1, 250) AS i`;
    const s = w.rootIn(t);
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const q: string = cursor ? `&cursor=${cursor}` : '';
      const res = await s.get(`/api/devices?limit=100&sort=name${q}`);
      expect(res.status).toBe(200);
      const body = (await res.json()) as { items: { name: string }[]; nextCursor: string | null };
      seen.push(...body.items.map((d) => d.name));
      cursor = body.nextCursor;
      pages++;
    } while (cursor);
    expect(pages).toBe(3);
    expect(seen).toHaveLength(250);
    expect(seen).toEqual([...seen].sort());
    expect(new Set(seen).size).toBe(250);

    const desc = (await (await s.get('/api/devices?limit=5&sort=name&order=desc')).json()) as {
      items: { name: string }[];
    };
    expect(desc.items.map((d) => d.name)).toEqual([
      'dev-0250',
      'dev-0249',
      'dev-0248',
      'dev-0247',
      'dev-0246',
    ]);

    const byCreated: string[] = [];
    cursor = null;
    do {
      const q: string = cursor ? `&cursor=${cursor}` : '';
      const body = (await (await s.get(`/api/devices?limit=60&sort=created_at&order=desc${q}`)).json()) as {
        items: { id: string }[];
        nextCursor: string | null;
      };
      byCreated.push(...body.items.map((d) => d.id));
      cursor = body.nextCursor;
    } while (cursor);
    expect(new Set(byCreated).size).toBe(250);

    const online = (await (await s.get('/api/devices?limit=200&status=online')).json()) as {
      items: { status: string }[];
    };
    expect(online.items).toHaveLength(83);
    expect(online.items.every((d) => d.status === 'online')).toBe(true);
    const prefix = (await (await s.get('/api/devices?q=dev-001')).json()) as { items: unknown[] };
    expect(prefix.items).toHaveLength(10);
  });

  it('filters by group and tag membership', async () => {
    const s = w.a.operator;
    const d1 = (await (await s.post('/api/devices', { name: 'grp-a', host: '10.1.1.1' })).json()) as {
      id: string;
    };
    const d2 = (await (await s.post('/api/devices', { name: 'grp-b', host: '10.1.1.2' })).json()) as {
      id: string;
    };
    const g = (await (await s.post('/api/device-groups', { name: 'site-1' })).json()) as { id: string };
    const t = (await (await s.post('/api/tags', { name: 'core', color: '#00ff00' })).json()) as {
      id: string;
    };
    expect((await s.put(`/api/device-groups/${g.id}/devices`, { deviceIds: [d1.id, d2.id] })).status).toBe(
      204,
    );
    expect((await s.put(`/api/tags/${t.id}/devices`, { deviceIds: [d2.id] })).status).toBe(204);
    const inGroup = (await (await s.get(`/api/devices?groupId=${g.id}`)).json()) as {
      items: { id: string }[];
    };
    expect(inGroup.items.map((d) => d.id).sort()).toEqual([d1.id, d2.id].sort());
    const tagged = (await (await s.get(`/api/devices?tagId=${t.id}`)).json()) as { items: { id: string }[] };
    expect(tagged.items.map((d) => d.id)).toEqual([d2.id]);
    const group = (await (await s.get(`/api/device-groups/${g.id}`)).json()) as { deviceCount: number };
    expect(group.deviceCount).toBe(2);
  });

  it('pages every named list by keyset (tags, groups, collectors, users, keys, invitations, tenants)', async () => {
    const [tenant] = await w.sql<
      { id: string }[]
    >`INSERT INTO tenants (name, slug) VALUES ('Lists', 'lists') RETURNING id`;
    const t = tenant!.id;
    for (const [table, column] of [
      ['tags', 'name'],
      ['device_groups', 'name'],
      ['collectors', 'name'],
    ] as const) {
      await w.sql.unsafe(
        `INSERT INTO ${table} (tenant_id, ${column}) SELECT $1, 'item-' || i FROM generate_series(1, 5) AS i`,
        [t],
      );
    }
    await w.sql`INSERT INTO users (tenant_id, email, role) SELECT ${t}, 'u' || i || '@l.test', 'viewer' FROM generate_series(1, 5) AS i`;
    const s = w.rootIn(t);
    for (const path of ['/api/tags', '/api/device-groups', '/api/collectors', '/api/users']) {
      const names: string[] = [];
      let cursor: string | null = null;
      do {
        const res: Response = await s.get(`${path}?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
        expect(res.status, path).toBe(200);
        const body = (await res.json()) as {
          items: { name?: string; email?: string }[];
          nextCursor: string | null;
        };
        names.push(...body.items.map((i) => i.name ?? i.email ?? ''));
        cursor = body.nextCursor;
      } while (cursor);
      expect(names, path).toHaveLength(5);
      expect(names, path).toEqual([...names].sort());
    }
    const filtered = (await (await s.get('/api/tags?q=item-3')).json()) as { items: { name: string }[] };
    expect(filtered.items.map((i) => i.name)).toEqual(['item-3']);
    const tenants = (await (await w.root.get('/api/tenants?limit=1&q=Lis')).json()) as {
      items: { id: string }[];
    };
    expect(tenants.items.map((i) => i.id)).toEqual([t]);
    for (const path of [
      '/api/tags?limit=0',
      '/api/users?cursor=nope',
      '/api/api-keys?sort=name',
      '/api/invitations?limit=x',
    ]) {
      expect((await w.a.admin.get(path)).status, path).toBe(400);
    }
  });

  it('answers 409 for a duplicate group name', async () => {
    await w.a.operator.post('/api/device-groups', { name: 'dup' });
    const res = await w.a.operator.post('/api/device-groups', { name: 'dup' });
    expect(res.status).toBe(409);
    expect(await errorCode(res)).toBe('conflict');
  });
});

describe('device import (CSV)', () => {
  const post = (s: Session, csv: string) =>
    s.fetch('/api/devices/import', { method: 'POST', headers: { 'content-type': 'text/csv' }, body: csv });

  it('creates every row with sealed credentials and one audit entry', async () => {
    const csv = [
      'name,host,port,tls_mode,username,password,notes',
      '"core, main",192.0.2.50,8729,strict,admin,"p,w ""1""",',
      'branch-1,192.0.2.51,,,,,"multi',
      'line"',
    ].join('\r\n');
    const res = await post(w.a.operator, csv);
    expect(res.status, await res.clone().text()).toBe(201);
    const body = (await res.json()) as { created: number; ids: string[] };
    expect(body.created).toBe(2);
    const rows = await w.sql<{ name: string; port: number; tls_mode: string; has: boolean; notes: string }[]>`
      SELECT name, port, tls_mode, credentials_enc IS NOT NULL AS has, notes FROM devices
      WHERE id IN ${w.sql(body.ids)} ORDER BY name`;
    expect(rows).toEqual([
      { name: 'branch-1', port: 8728, tls_mode: 'any', has: false, notes: 'multi\r\nline' },
      { name: 'core, main', port: 8729, tls_mode: 'strict', has: true, notes: '' },
    ]);
    const requestId = res.headers.get('x-request-id');
    const audit =
      await w.sql`SELECT action FROM audit_log WHERE request_id = ${requestId} AND action = 'device.import'`;
    expect(audit).toHaveLength(1);
  });

  it('imports nothing when any row is bad, naming the lines', async () => {
    const before = await w.sql`SELECT count(*)::int AS n FROM devices WHERE tenant_id = ${w.tenantA}`;
    const res = await post(w.a.operator, 'name,host,port\nok,10.0.0.1,1\nbad,10.0.0.2,99999\n,10.0.0.3,\n');
    expect(res.status).toBe(400);
    const err = (await res.json()) as { error: { details: { path: string }[] } };
    expect(err.error.details.map((d) => d.path)).toEqual(
      expect.arrayContaining(['line 3.port', 'line 4.name']),
    );
    const after = await w.sql`SELECT count(*)::int AS n FROM devices WHERE tenant_id = ${w.tenantA}`;
    expect(after).toEqual(before);
  });

  it('refuses unknown columns, an empty file, broken quoting, JSON and another tenant collector', async () => {
    expect((await post(w.a.operator, 'name,host,password_hash\na,b,c\n')).status).toBe(400);
    expect((await post(w.a.operator, '')).status).toBe(400);
    expect((await post(w.a.operator, 'name,host\n"open,10.0.0.1\n')).status).toBe(400);
    expect((await w.a.operator.post('/api/devices/import', { name: 'x' })).status).toBe(415);
    const [col] = await w.sql<
      { id: string }[]
    >`INSERT INTO collectors (tenant_id, name) VALUES (${w.tenantB}, 'b') RETURNING id`;
    const res = await post(w.a.operator, `name,host,collector_id\nx,10.0.0.9,${col!.id}\n`);
    expect(res.status).toBe(404);
  });
});

describe('API keys', () => {
  it('shows the key once, stores only its SHA-256, records last use and stops working when revoked', async () => {
    const res = await w.a.admin.post('/api/api-keys', { name: 'ci', role: 'operator' });
    expect(res.status).toBe(201);
    const created = (await res.json()) as { id: string; key: string; prefix: string };
    expect(created.key).toMatch(/^mktp_[A-Za-z0-9_-]{43}$/);
    expect(created.key.startsWith(created.prefix)).toBe(true);
    const list = await (await w.a.admin.get('/api/api-keys')).text();
    expect(list).not.toContain(created.key);
    const [row] = await w.sql<{ key_hash: Buffer; last_used_at: Date | null }[]>`
      SELECT key_hash, last_used_at FROM api_keys WHERE id = ${created.id}`;
    const digest = Buffer.from(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(created.key)));
    expect(row!.key_hash.equals(digest)).toBe(true);
    expect(row!.last_used_at).toBeNull();

    const key = new Session(w.edge, { 'x-api-key': created.key });
    const me = (await (await key.get('/api/auth/me')).json()) as {
      kind: string;
      role: string;
      tenantId: string;
    };
    expect(me).toMatchObject({ kind: 'api_key', role: 'operator', tenantId: w.tenantA });
    expect((await key.post('/api/tags', { name: 'from-key' })).status).toBe(201);
    const [used] =
      await w.sql`SELECT last_used_at IS NOT NULL AS used FROM api_keys WHERE id = ${created.id}`;
    expect(used).toEqual({ used: true });

    expect((await w.a.admin.delete(`/api/api-keys/${created.id}`)).status).toBe(204);
    const after = await key.get('/api/devices');
    expect(after.status).toBe(401);
  });

  it('cannot be created with more than operator rights', async () => {
    const res = await w.a.admin.post('/api/api-keys', { name: 'root', role: 'admin' });
    expect(res.status).toBe(400);
  });
});

describe('collectors', () => {
  it('hands out a one-time enrol token stored as a hash, and revokes', async () => {
    const res = await w.a.admin.post('/api/collectors', { name: 'site-a', site: 'Vienna' });
    expect(res.status).toBe(201);
    const c = (await res.json()) as { id: string; enrollToken: string; status: string };
    expect(c.status).toBe('pending');
    const [row] = await w.sql<
      { h: Buffer }[]
    >`SELECT enroll_token_hash AS h FROM collectors WHERE id = ${c.id}`;
    expect(row!.h.toString('latin1')).not.toContain(c.enrollToken);
    const listed = await (await w.a.viewer.get('/api/collectors')).text();
    expect(listed).not.toContain(c.enrollToken);
    const revoked = (await (await w.a.admin.post(`/api/collectors/${c.id}/revoke`)).json()) as {
      status: string;
    };
    expect(revoked.status).toBe('revoked');
    expect((await w.a.admin.post(`/api/collectors/${c.id}/enroll-token`)).status).toBe(409);
  });
});

describe('users and invitations', () => {
  it('does not list invitation tokens and refuses a used token', async () => {
    const res = await w.a.admin.post('/api/invitations', { email: 'late@a.test', role: 'viewer' });
    const { token } = (await res.json()) as { token: string };
    expect(await (await w.a.admin.get('/api/invitations')).text()).not.toContain(token);
    await w.sql`UPDATE invitations SET accepted_at = now() WHERE email = 'late@a.test'`;
    const enrolment = { salt: 'ab', verifier: 'cd', secretKeyId: 'ABCDEF' };
    const accept = await new Session(w.edge).post('/api/auth/invitations/accept', {
      token,
      name: 'Late',
      enrolment,
    });
    expect(accept.status).toBe(404);
  });

  it('ends a disabled user’s sessions at the next refresh and refuses their login', async () => {
    const temp = await inviteAndLogin(w.edge, w.a.admin, 'temp@a.test', 'viewer');
    expect((await temp.session.post('/api/auth/refresh')).status).toBe(200);
    expect((await w.a.admin.patch(`/api/users/${temp.userId}`, { disabled: true })).status).toBe(200);
    const refresh = await temp.session.post('/api/auth/refresh');
    expect(refresh.status).toBe(401);
    const init = await new Session(w.edge).post('/api/auth/srp/init', { email: 'temp@a.test' });
    const { handshakeId, salt, B } = (await init.json()) as { handshakeId: string; salt: string; B: string };
    const start = startLogin();
    const proof = await computeLoginProof(temp.account, start, { salt, B });
    const verify = await new Session(w.edge).post('/api/auth/srp/verify', {
      handshakeId,
      A: start.A,
      M1: proof.M1,
    });
    expect(verify.status).toBe(401);
  });

  it('refuses admins changing their own role', async () => {
    const res = await w.a.admin.patch(`/api/users/${w.userIds.adminA}`, { role: 'viewer' });
    expect(res.status).toBe(409);
  });
});

describe('audit log', () => {
  it('lists the tenant trail newest first with decrypted details, paged by cursor', async () => {
    await w.a.operator.post('/api/tags', { name: 'audited', color: '#123456' });
    const res = await w.a.admin.get('/api/audit-logs?action=tag.create&limit=1');
    const body = (await res.json()) as {
      items: { action: string; details: { name: string } | null; actorType: string; outcome: string }[];
      nextCursor: string | null;
    };
    expect(body.items[0]).toMatchObject({ action: 'tag.create', actorType: 'user', outcome: 'success' });
    expect(body.items[0]!.details).toEqual({ name: 'audited', color: '#123456' });
    expect(body.nextCursor).not.toBeNull();
    const next = (await (
      await w.a.admin.get(`/api/audit-logs?action=tag.create&limit=1&cursor=${body.nextCursor}`)
    ).json()) as {
      items: unknown[];
    };
    expect(next.items).toHaveLength(1);
    // Tenant B sees none of it.
    const b = (await (await w.b.admin.get('/api/audit-logs?action=tag.create')).json()) as {
      items: unknown[];
    };
    expect(b.items).toHaveLength(0);
  });

  it('exports CSV with formula cells neutralised, and audits the export', async () => {
    await w.a.operator.post('/api/tags', { name: '=HYPERLINK("http://evil")' });
    const res = await w.a.admin.get('/api/audit-logs/export.csv?action=tag.create');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/csv');
    const csv = await res.text();
    expect(csv.split('\r\n')[0]).toBe(
      'id,created_at,actor_type,actor_id,action,target_type,target_id,outcome,ip,request_id,details',
    );
    expect(csv).toContain('tag.create');
    expect(csv).not.toMatch(/(^|,)=HYPERLINK/m);
    const requestId = res.headers.get('x-request-id');
    const [row] = await w.sql`
      SELECT count(*)::int AS n FROM audit_log WHERE action = 'audit_log.export' AND request_id = ${requestId}`;
    expect(row).toEqual({ n: 1 });
  });

  it('records every KMS use for the transparency view', async () => {
    const res = await w.a.admin.get('/api/kms-events');
    const body = (await res.json()) as { items: { operation: string; kms: string }[] };
    const ops = new Set(body.items.map((e) => e.operation));
    expect(ops.has('generate')).toBe(true);
    expect(ops.has('wrap')).toBe(true);
    expect(body.items.every((e) => e.kms === 'local')).toBe(true);
  });

  it('is append-only for the application role', async () => {
    const [{ count }] = (await w.sql`SELECT count(*)::int AS count FROM audit_log`) as unknown as [
      { count: number },
    ];
    expect(count).toBeGreaterThan(0);
    const grants = await w.sql`
      SELECT privilege_type FROM information_schema.role_table_grants
      WHERE grantee = 'tod_app' AND table_name = 'audit_log' ORDER BY privilege_type`;
    expect(grants.map((g) => g.privilege_type)).toEqual(['INSERT', 'SELECT']);
  });
});

describe('logs', () => {
  it('never carry secrets, even when a background mirror fails', async () => {
    const lines: string[] = [];
    let notify: (() => void) | null = null;
    const failed = new Promise<void>((resolve) => {
      notify = resolve;
    });
    const capture = (stream: NodeJS.WriteStream) => {
      const original = stream.write.bind(stream);
      stream.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
        const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
        lines.push(text);
        if (text.includes('device mirror failed')) notify?.();
        return (original as (c: string | Uint8Array, ...r: unknown[]) => boolean)(chunk, ...rest);
      }) as typeof stream.write;
      return () => {
        stream.write = original;
      };
    };
    // wrangler relays the Worker's console through the test process's console (and vitest's capture).
    const spies = (['log', 'info', 'warn', 'error', 'debug'] as const).map((level) => {
      const original = console[level];
      console[level] = (...args: unknown[]) => {
        const text = args.map(String).join(' ');
        lines.push(text);
        if (text.includes('device mirror failed')) notify?.();
        original.apply(console, args);
      };
      return () => {
        console[level] = original;
      };
    });
    const restore = [capture(process.stdout), capture(process.stderr), ...spies];
    try {
      const { publicKey } = await generateKeyPair('ECDH-ES+A256KW', { crv: 'P-256', extractable: true });
      const jwk = await exportJWK(publicKey);
      const col = (await (await w.a.admin.post('/api/collectors', { name: 'log-probe' })).json()) as {
        id: string;
        enrollToken: string;
      };
      const enrol = await new Session(w.edge).post('/api/collectors/enroll', {
        token: col.enrollToken,
        publicKey: { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y },
      });
      expect(enrol.status).toBe(200);
      // This world's NATS URL points nowhere: the mirror fails after the response and logs it.
      const res = await w.a.operator.post('/api/devices', {
        name: 'log-probe',
        host: '192.0.2.99',
        collectorId: col.id,
        credentials: { username: 'log-user', password: DEVICE_PASSWORD },
      });
      expect(res.status).toBe(201);
      await failed;
      const all = lines.join('');
      for (const secret of [DEVICE_PASSWORD, col.enrollToken, w.keys.operator, TEST_SECRETS.JWT_SECRET_KEY]) {
        expect(all).not.toContain(secret);
      }
      expect(all).not.toMatch(/tod_app:[^@\s]+@/);
    } finally {
      for (const r of restore) r();
    }
  });
});

// /api/devices/:id/config/snapshots from outside the Worker: every route × every role, the sensitive-content
// rule (viewers see the history, not the secrets), tenant isolation and bad input. Snapshots are seeded the
// way the TenantHub writes them: storeSnapshot with the same KMS master key the edge runs with.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiErrorBody, ConfigDiff, ConfigSnapshotList, normaliseExport } from '@tod/contracts';
import * as schema from '@tod/drizzle/schema';
import { drizzle } from 'drizzle-orm/postgres-js';
import { beforeAll, describe, expect, it } from 'vitest';
import { TEST_SECRETS } from '../../tests/env/edge';
import { withTenant } from '../src/db';
import { type StoreSnapshotInput, storeSnapshot } from '../src/services/config-backups';
import { deviceFileName } from '../src/services/config-git';
import { localKms } from '../src/services/kms';
import { Session as S, type Session } from './client';
import { createWorld, type World } from './fixtures';

let w: World;
const kms = localKms(TEST_SECRETS.CREDENTIAL_ENCRYPTION_KEY);

interface DeviceHistory {
  device: string;
  /** seq → snapshot id */
  v: Record<number, string>;
}
let plainA: DeviceHistory; // two versions without secrets
let secretA: DeviceHistory; // v1 plain, v2 exported with show-sensitive
let plainB: DeviceHistory;

const exportText = (identity: string, extra: string[] = []) =>
  [
    '# 2026-11-23 10:00:00 by RouterOS 7.16.2',
    '# software id = 9EER-511K',
    '#',
    '# model = RB5009UG+S+',
    '# serial number = HE30812ABC1',
    '/ip dns',
    'set servers=1.1.1.1',
    ...extra,
    '/system identity',
    `set name=${identity}`,
    '',
  ].join('\n');

async function seed(
  tenant: string,
  versions: Omit<StoreSnapshotInput, 'deviceId' | 'takenAt' | 'trigger'>[],
) {
  const [d] = await w.sql<
    { id: string }[]
  >`INSERT INTO devices (tenant_id, name, host) VALUES (${tenant}, ${`cfg-${Math.random().toString(36).slice(2)}`}, '10.1.1.1') RETURNING id`;
  const db = drizzle(w.sql, { schema });
  const v: Record<number, string> = {};
  for (const [i, version] of versions.entries()) {
    const r = await withTenant(db, tenant, (tx) =>
      storeSnapshot(
        { tx, kms, tenantId: tenant },
        { deviceId: d!.id, takenAt: new Date(Date.UTC(2026, 10, 23, 10, i)), trigger: 'change', ...version },
      ),
    );
    expect(r.status).toBe('created');
    v[r.snapshot.seq] = r.snapshot.id;
  }
  return { device: d!.id, v };
}

beforeAll(async () => {
  w = await createWorld();
  plainA = await seed(w.tenantA, [
    { sensitive: false, exportText: exportText('core-1') },
    {
      sensitive: false,
      exportText: exportText('core-2', ['/ip firewall address-list', 'add address=10.0.0.0/8 list=mgmt']),
    },
  ]);
  secretA = await seed(w.tenantA, [
    { sensitive: false, exportText: exportText('edge-1') },
    {
      sensitive: true,
      exportText: exportText('edge-1', [
        '/interface wireguard',
        'add name=wg1 private-key="TOP-SECRET-KEY="',
      ]),
    },
  ]);
  plainB = await seed(w.tenantB, [{ sensitive: false, exportText: exportText('bravo-1') }]);
  return () => w.sql.end();
});

type Who =
  | 'anonymous'
  | 'super_admin'
  | 'admin'
  | 'operator'
  | 'viewer'
  | 'key_operator'
  | 'key_viewer'
  | 'other_tenant_admin';
const WHO: Who[] = [
  'anonymous',
  'super_admin',
  'admin',
  'operator',
  'viewer',
  'key_operator',
  'key_viewer',
  'other_tenant_admin',
];

function session(who: Who): Session {
  switch (who) {
    case 'anonymous':
      return new S(w.edge);
    case 'super_admin':
      return w.rootIn(w.tenantA);
    case 'admin':
      return w.a.admin;
    case 'operator':
      return w.a.operator;
    case 'viewer':
      return w.a.viewer;
    case 'key_operator':
      return w.a.keyOperator;
    case 'key_viewer':
      return w.a.keyViewer;
    case 'other_tenant_admin':
      return w.b.admin;
  }
}

const list = (h: DeviceHistory) => `/api/devices/${h.device}/config/snapshots`;
const one = (h: DeviceHistory, seq: number) => `${list(h)}/${h.v[seq]}`;
const diff = (h: DeviceHistory, from: number, to: number) =>
  `${list(h)}/diff?from=${h.v[from]}&to=${h.v[to]}`;

async function statuses(path: () => string): Promise<Record<Who, number>> {
  const out = {} as Record<Who, number>;
  for (const who of WHO) {
    const res = await session(who).get(path());
    out[who] = res.status;
    if (res.status >= 400)
      expect(ApiErrorBody.safeParse(await res.json()).success, `${who} ${path()}`).toBe(true);
    else await res.arrayBuffer();
  }
  return out;
}

const everyoneInA = (ok: number, viewers = ok): Record<Who, number> => ({
  anonymous: 401,
  super_admin: ok,
  admin: ok,
  operator: ok,
  viewer: viewers,
  key_operator: ok,
  key_viewer: viewers,
  other_tenant_admin: 404,
});

describe('role matrix', () => {
  it('GET …/config/snapshots', async () => {
    expect(await statuses(() => list(plainA))).toEqual(everyoneInA(200));
  });
  it('GET …/config/snapshots/:sid', async () => {
    expect(await statuses(() => one(plainA, 1))).toEqual(everyoneInA(200));
  });
  it('GET …/config/snapshots/diff', async () => {
    expect(await statuses(() => diff(plainA, 1, 2))).toEqual(everyoneInA(200));
  });
  it('a sensitive snapshot: viewers see it listed but cannot download it or diff against it', async () => {
    expect(await statuses(() => list(secretA))).toEqual(everyoneInA(200));
    expect(await statuses(() => one(secretA, 2))).toEqual(everyoneInA(200, 403));
    expect(await statuses(() => diff(secretA, 1, 2))).toEqual(everyoneInA(200, 403));
    expect(await statuses(() => diff(secretA, 2, 1))).toEqual(everyoneInA(200, 403));
    // The plain version of the same device stays readable.
    expect((await w.a.viewer.get(one(secretA, 1))).status).toBe(200);
  });
});

describe('content', () => {
  it('lists the history newest first with metadata only', async () => {
    const res = await w.a.viewer.get(`${list(secretA)}?limit=1`);
    const body = ConfigSnapshotList.parse(await res.json());
    expect(body.items.map((s) => [s.seq, s.sensitive])).toEqual([[2, true]]);
    expect(body.nextBefore).toBe(2);
    const older = ConfigSnapshotList.parse(await (await w.a.viewer.get(`${list(secretA)}?before=2`)).json());
    expect(older.items.map((s) => s.seq)).toEqual([1]);
    expect(older.nextBefore).toBeNull();
    expect(JSON.stringify(body)).not.toContain('TOP-SECRET');
  });

  it('downloads a version as the normalised export text', async () => {
    const res = await w.a.viewer.get(one(plainA, 1));
    expect(res.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(res.headers.get('content-disposition')).toMatch(/^attachment; filename="cfg-[a-z0-9]+-v1\.rsc"$/);
    expect(await res.text()).toBe(normaliseExport(exportText('core-1')));
  });

  it('lets an operator download a sensitive version and records that in the audit log', async () => {
    const res = await w.a.operator.fetch(one(secretA, 2), { headers: { 'x-request-id': 'cfg-dl-0001' } });
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('private-key="TOP-SECRET-KEY="');
    const rows = await w.sql`SELECT action, target_id FROM audit_log WHERE request_id = 'cfg-dl-0001'`;
    expect(rows).toEqual([{ action: 'config_snapshot.download', target_id: secretA.device }]);
  });

  it('diffs two versions, unified and side by side', async () => {
    const res = await w.a.viewer.get(diff(plainA, 1, 2));
    const body = ConfigDiff.parse(await res.json());
    expect(body.from.seq).toBe(1);
    expect(body.to.seq).toBe(2);
    expect(body.unified).toContain('--- v1\n+++ v2\n');
    expect(body.unified).toContain('\n-set name=core-1\n');
    expect(body.unified).toContain('\n+set name=core-2\n');
    expect(body.unified).toContain('\n+add address=10.0.0.0/8 list=mgmt\n');
    expect(body.stats).toEqual({ added: 3, removed: 1 });
    expect(body.sideBySide).toContainEqual({
      kind: 'change',
      left: { line: 5, text: 'set name=core-1' },
      right: { line: 7, text: 'set name=core-2' },
    });
    const same = ConfigDiff.parse(await (await w.a.viewer.get(diff(plainA, 2, 2))).json());
    expect(same.unified).toBe('');
  });
});

describe('tenant isolation', () => {
  it('answers 404 for tenant B devices and snapshots through tenant A', async () => {
    for (const path of [
      list(plainB),
      one(plainB, 1),
      `${list(plainB)}/diff?from=${plainB.v[1]}&to=${plainB.v[1]}`,
    ]) {
      const res = await w.a.admin.get(path);
      expect(res.status, path).toBe(404);
      expect(await res.text()).not.toContain('bravo');
    }
  });

  it('does not serve a snapshot through another device of the same tenant', async () => {
    const res = await w.a.admin.get(`${list(plainA)}/${secretA.v[2]}`);
    expect(res.status).toBe(404);
    const mixed = await w.a.admin.get(`${list(plainA)}/diff?from=${plainA.v[1]}&to=${secretA.v[2]}`);
    expect(mixed.status).toBe(404);
  });
});

describe('bad input', () => {
  const cases: [string, () => string, number][] = [
    ['device id that is not a uuid', () => '/api/devices/nope/config/snapshots', 404],
    ['unknown device', () => '/api/devices/00000000-0000-4000-8000-000000000000/config/snapshots', 404],
    ['snapshot id that is not a uuid', () => `${list(plainA)}/v1`, 404],
    ['unknown snapshot', () => `${list(plainA)}/00000000-0000-4000-8000-000000000000`, 404],
    ['limit 0', () => `${list(plainA)}?limit=0`, 400],
    ['limit too large', () => `${list(plainA)}?limit=100000`, 400],
    ['negative before', () => `${list(plainA)}?before=-1`, 400],
    ['unknown query parameter', () => `${list(plainA)}?sort=name`, 400],
    ['diff without to', () => `${list(plainA)}/diff?from=${plainA.v[1]}`, 400],
    ['diff with a non-uuid', () => `${list(plainA)}/diff?from=x&to=${plainA.v[1]}`, 400],
    [
      'diff with SQL in it',
      () => `${list(plainA)}/diff?from=${encodeURIComponent("'; DROP TABLE config_snapshots; --")}&to=y`,
      400,
    ],
    ['diff with a huge context', () => `${diff(plainA, 1, 2)}&context=1000`, 400],
  ];
  for (const [name, path, status] of cases) {
    it(`${name} → ${status}`, async () => {
      const res = await w.a.admin.get(path());
      expect(res.status).toBe(status);
      expect(ApiErrorBody.safeParse(await res.json()).success).toBe(true);
    });
  }
});

describe('git history export', () => {
  const path = '/api/config-backups/history.bundle';

  it('needs the operator role (the bundle holds sensitive versions)', async () => {
    const got = {} as Record<Who, number>;
    for (const who of WHO) {
      const res = await session(who).get(path);
      got[who] = res.status;
      await res.arrayBuffer();
    }
    expect(got).toEqual({ ...everyoneInA(200, 403), other_tenant_admin: 200 });
  });

  it('clones as a git repository with one commit per version and one file per device', async () => {
    const res = await w.a.operator.fetch(path, { headers: { 'x-request-id': 'cfg-git-0001' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/x-git-bundle');
    const dir = mkdtempSync(join(tmpdir(), 'tod-bundle-'));
    try {
      writeFileSync(join(dir, 'history.bundle'), Buffer.from(await res.arrayBuffer()));
      const git = (...args: string[]) =>
        execFileSync('git', args, {
          cwd: join(dir, 'repo'),
          encoding: 'utf8',
          env: { ...process.env, GIT_CONFIG_NOSYSTEM: '1' },
        });
      execFileSync('git', ['clone', '--quiet', 'history.bundle', 'repo'], { cwd: dir });
      git('fsck', '--strict');
      const subjects = git('log', '--format=%s', '--reverse').trim().split('\n');
      expect(subjects).toHaveLength(4);
      expect(subjects.filter((s) => s.endsWith('version 2 (change)'))).toHaveLength(2);
      const [plainRow] = await w.sql<
        { name: string }[]
      >`SELECT name FROM devices WHERE id = ${plainA.device}`;
      const [secretRow] = await w.sql<
        { name: string }[]
      >`SELECT name FROM devices WHERE id = ${secretA.device}`;
      const plainFile = deviceFileName(plainRow!.name, plainA.device);
      const secretFile = deviceFileName(secretRow!.name, secretA.device);
      expect(git('ls-files').trim().split('\n').sort()).toEqual([plainFile, secretFile].sort());
      expect(readFileSync(join(dir, 'repo', secretFile), 'utf8')).toContain('private-key="TOP-SECRET-KEY="');
      // The file's own history is the device's versions, and git's diff shows the change.
      expect(git('log', '--format=%s', '--', plainFile).trim().split('\n')).toHaveLength(2);
      expect(git('log', '-p', '-1', '--format=', '--', plainFile)).toContain('+set name=core-2');
      // Tenant B's devices are not in tenant A's history.
      expect(git('log', '--all', '--format=%B')).not.toContain('bravo');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const rows = await w.sql`SELECT action FROM audit_log WHERE request_id = 'cfg-git-0001'`;
    expect(rows).toEqual([{ action: 'config_history.export' }]);
  });
});

// /api/config-batches and template previews from outside the Worker: every role, tenant isolation, bad
// input, and batches run by the BatchRunner Durable Object up to their per-device results. No collector is
// online in this world, so every device that is sent something fails with the command channel's error: what
// is asserted is the batch machinery (render failures, stop-on-first-failure, cancel, SSE progress, audit).
// Runs against real devices and a collector are in tests/config-batch.test.ts.
import { ApiErrorBody, ConfigBatch, ConfigBatchProgress, TemplatePreviewResponse } from '@tod/contracts';
import { beforeAll, describe, expect, it } from 'vitest';
import { Session as S, type Session } from './client';
import { createWorld, type World } from './fixtures';
import { SseClient } from './sse-client';

let w: World;
const devicesA: string[] = [];
let deviceB = '';
let groupA = '';
let templateA = '';

beforeAll(async () => {
  w = await createWorld({ nats: true });
  const [col] = await w.sql<{ id: string }[]>`
    INSERT INTO collectors (tenant_id, name, site) VALUES (${w.tenantA}, 'col-a', 'Vienna') RETURNING id`;
  for (let i = 0; i < 6; i++) {
    const [d] = await w.sql<{ id: string }[]>`
      INSERT INTO devices (tenant_id, collector_id, name, host, model, serial)
      VALUES (${w.tenantA}, ${col!.id}, ${`rtr-${i}`}, ${`10.0.0.${i + 1}`}, 'RB5009', ${`SN${i}`}) RETURNING id`;
    devicesA.push(d!.id);
  }
  const [d] = await w.sql<{ id: string }[]>`
    INSERT INTO devices (tenant_id, name, host) VALUES (${w.tenantB}, 'b-1', '10.1.0.1') RETURNING id`;
  deviceB = d!.id;
  const [g] = await w.sql<{ id: string }[]>`
    INSERT INTO device_groups (tenant_id, name) VALUES (${w.tenantA}, 'core') RETURNING id`;
  groupA = g!.id;
  await w.sql`INSERT INTO device_group_members (tenant_id, group_id, device_id)
    VALUES (${w.tenantA}, ${groupA}, ${devicesA[0]!}), (${w.tenantA}, ${groupA}, ${devicesA[1]!})`;
  const res = await w.a.operator.post('/api/config-templates', {
    name: 'vlan',
    body: '/interface vlan add name=vlan{{vlan}} vlan-id={{vlan}} interface=ether1 comment="{{site}} {{comment}}"',
    variables: [
      { name: 'vlan', type: 'integer', min: 1, max: 4094 },
      { name: 'site', type: 'string', fact: 'site' },
      { name: 'comment', type: 'string', required: false },
    ],
  });
  expect(res.status, await res.clone().text()).toBe(201);
  templateA = ((await res.json()) as { id: string }).id;
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
  | 'other';
const WHO: Who[] = [
  'anonymous',
  'super_admin',
  'admin',
  'operator',
  'viewer',
  'key_operator',
  'key_viewer',
  'other',
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
    case 'other':
      return w.b.admin;
  }
}

const cliBatch = (extra: Record<string, unknown> = {}) => ({
  selection: { deviceIds: [devicesA[5]!] },
  action: { kind: 'cli', script: '/system resource print' },
  ...extra,
});

async function until<T>(
  f: () => Promise<T | undefined | false>,
  what: string,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await f();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function finished(id: string, s: Session = w.a.viewer): Promise<ConfigBatch> {
  return until(async () => {
    const b = ConfigBatch.parse(await (await s.get(`/api/config-batches/${id}`)).json());
    return b.state !== 'running' && b;
  }, `batch ${id} to finish`);
}

async function start(body: unknown, s: Session = w.a.operator): Promise<ConfigBatch> {
  const res = await s.post('/api/config-batches', body);
  expect(res.status, await res.clone().text()).toBe(202);
  return ConfigBatch.parse(((await res.json()) as { batch: unknown }).batch);
}

describe('role matrix', () => {
  it('operators and up start batches; viewers and other tenants cannot', async () => {
    const got: Record<string, number> = {};
    for (const who of WHO) {
      const res = await session(who).post('/api/config-batches', cliBatch());
      got[who] = res.status;
      if (res.status >= 400) expect(ApiErrorBody.safeParse(await res.json()).success).toBe(true);
      else await res.arrayBuffer();
    }
    // Tenant B's admin names devices it cannot see: 404.
    expect(got).toEqual({
      anonymous: 401,
      super_admin: 202,
      admin: 202,
      operator: 202,
      viewer: 403,
      key_operator: 202,
      key_viewer: 403,
      other: 404,
    });
  });

  it('everyone in the tenant reads a batch; operators cancel', async () => {
    const b = await start(cliBatch());
    const reads: Record<string, number> = {};
    for (const who of WHO) reads[who] = (await session(who).get(`/api/config-batches/${b.id}`)).status;
    expect(reads).toEqual({
      anonymous: 401,
      super_admin: 200,
      admin: 200,
      operator: 200,
      viewer: 200,
      key_operator: 200,
      key_viewer: 200,
      other: 404,
    });
    for (const who of ['viewer', 'key_viewer'] as const) {
      expect((await session(who).post(`/api/config-batches/${b.id}/cancel`, {})).status).toBe(403);
      expect((await session(who).post(`/api/config-batches/${b.id}/confirm`, {})).status).toBe(403);
    }
    expect((await w.b.admin.post(`/api/config-batches/${b.id}/cancel`, {})).status).toBe(404);
    expect((await w.b.admin.post(`/api/config-batches/${b.id}/confirm`, {})).status).toBe(404);
    // Only a safe batch has changes waiting for confirmation.
    expect((await w.a.operator.post(`/api/config-batches/${b.id}/confirm`, {})).status).toBe(409);
  });

  it('viewers preview templates; other tenants cannot see them', async () => {
    const body = { deviceIds: [devicesA[0]!], variables: { vlan: 10 } };
    expect((await w.a.viewer.post(`/api/config-templates/${templateA}/preview`, body)).status).toBe(200);
    expect((await w.b.admin.post(`/api/config-templates/${templateA}/preview`, body)).status).toBe(404);
    expect((await new S(w.edge).post(`/api/config-templates/${templateA}/preview`, body)).status).toBe(401);
  });
});

describe('tenant isolation', () => {
  it('refuses devices, groups and templates of another tenant with 404', async () => {
    const tries: unknown[] = [
      {
        selection: { deviceIds: [devicesA[0]!, deviceB] },
        action: { kind: 'cli', script: '/ip address print' },
      },
      { selection: { groupId: groupA }, action: { kind: 'cli', script: '/ip address print' } },
      { selection: { deviceIds: [devicesA[0]!] }, action: { kind: 'template', templateId: templateA } },
    ];
    const asB = [
      { selection: { deviceIds: [devicesA[0]!] }, action: { kind: 'cli', script: 'x' } },
      tries[1],
      { selection: { deviceIds: [deviceB] }, action: { kind: 'template', templateId: templateA } },
    ];
    expect((await w.a.operator.post('/api/config-batches', tries[0])).status).toBe(404);
    for (const t of asB) expect((await w.b.admin.post('/api/config-batches', t)).status).toBe(404);
    const preview = await w.a.operator.post(`/api/config-templates/${templateA}/preview`, {
      deviceIds: [deviceB],
    });
    expect(preview.status).toBe(404);
    const list = (await (await w.b.admin.get('/api/config-batches')).json()) as { items: unknown[] };
    expect(list.items).toEqual([]);
    const filter = await w.b.admin.post('/api/config-batches', {
      selection: { filter: 'rtr-' },
      action: { kind: 'cli', script: '/ip address print' },
    });
    expect(filter.status).toBe(400);
    expect(((await filter.json()) as { error: { code: string } }).error.code).toBe('empty_selection');
  });
});

describe('bad input', () => {
  it('answers 4xx with a message, never 5xx', async () => {
    const bodies: unknown[] = [
      {},
      { selection: {}, action: { kind: 'cli', script: 'x' } },
      { selection: { deviceIds: [] }, action: { kind: 'cli', script: 'x' } },
      { selection: { deviceIds: ['nope'] }, action: { kind: 'cli', script: 'x' } },
      { selection: { deviceIds: [devicesA[0]!] }, action: { kind: 'rm -rf', script: 'x' } },
      { selection: { deviceIds: [devicesA[0]!] }, action: { kind: 'cli', script: '' } },
      { selection: { deviceIds: [devicesA[0]!] }, action: { kind: 'changes', changes: [] } },
      {
        selection: { deviceIds: [devicesA[0]!] },
        action: { kind: 'changes', changes: [{ action: 'remove', path: '/ip/address' }] },
      },
      { ...cliBatch(), concurrency: 0 },
      { ...cliBatch(), concurrency: 1000 },
      { ...cliBatch(), mode: 'yolo' },
      { ...cliBatch(), extra: 1 },
      { selection: { filter: 'collector:1 OR 1=1' }, action: { kind: 'cli', script: 'x' } },
      { selection: { tag: 'no-such-tag' }, action: { kind: 'cli', script: 'x' } },
      {
        selection: { deviceIds: [devicesA[0]!] },
        action: { kind: 'template', templateId: crypto.randomUUID() },
      },
    ];
    const statuses = [];
    for (const b of bodies) {
      const res = await w.a.operator.post('/api/config-batches', b);
      statuses.push(res.status);
      expect(ApiErrorBody.safeParse(await res.json()).success, JSON.stringify(b)).toBe(true);
    }
    expect(statuses).toEqual([400, 400, 400, 400, 400, 400, 400, 400, 400, 400, 400, 400, 400, 404, 404]);
    for (const path of [
      '/api/config-batches/nope',
      '/api/config-batches/00000000-0000-4000-8000-000000000000',
    ])
      expect((await w.a.viewer.get(path)).status).toBe(404);
    expect((await w.a.viewer.get('/api/config-batches?state=exploded')).status).toBe(400);
    expect((await w.a.viewer.get('/api/config-batches?cursor=zzz')).status).toBe(400);
  });

  it('refuses templates whose body uses undeclared variables, or with bad variable definitions', async () => {
    const bad: unknown[] = [
      { name: 'x1', body: 'set name={{ghost}}' },
      { name: 'x2', body: 'x', variables: [{ name: '1bad', type: 'string' }] },
      { name: 'x3', body: 'x', variables: [{ name: 'a', type: 'enum' }] },
      { name: 'x4', body: 'x', variables: [{ name: 'a', type: 'float' }] },
      {
        name: 'x5',
        body: 'x',
        variables: [
          { name: 'a', type: 'string' },
          { name: 'a', type: 'ip' },
        ],
      },
      { name: 'x6', body: 'x', variables: [{ name: 'a', type: 'string', fact: 'password' }] },
    ];
    for (const b of bad)
      expect((await w.a.operator.post('/api/config-templates', b)).status, JSON.stringify(b)).toBe(400);
    const dup = await w.a.operator.post('/api/config-templates', { name: 'vlan', body: 'x' });
    expect(dup.status).toBe(409);
  });
});

describe('templates', () => {
  it('previews per device with device facts, group values and per-device errors', async () => {
    const res = await w.a.viewer.post(`/api/config-templates/${templateA}/preview`, {
      deviceIds: [devicesA[0]!, devicesA[1]!, devicesA[2]!],
      variables: { vlan: 10, comment: 'a"b; c\n/system reboot' },
      groupVariables: { [groupA]: { vlan: 20 } },
      deviceVariables: { [devicesA[2]!]: { vlan: 'ten' } },
    });
    expect(res.status).toBe(200);
    const body = TemplatePreviewResponse.parse(await res.json());
    expect(body.items.map((i) => [i.deviceName, i.script])).toEqual([
      [
        'rtr-0',
        '/interface vlan add name=vlan20 vlan-id=20 interface=ether1 comment="Vienna a\\"b; c\\n/system reboot"',
      ],
      [
        'rtr-1',
        '/interface vlan add name=vlan20 vlan-id=20 interface=ether1 comment="Vienna a\\"b; c\\n/system reboot"',
      ],
      ['rtr-2', null],
    ]);
    expect(body.items[2]!.errors).toEqual([
      { variable: 'vlan', code: 'invalid', message: 'vlan: must be a whole number' },
    ]);
  });

  it('updates, lists and deletes a template, and audits each write', async () => {
    const created = await w.a.operator.post('/api/config-templates', {
      name: 'dns',
      body: '/ip dns set servers={{dns}}',
      variables: [{ name: 'dns', type: 'ip' }],
    });
    const { id } = (await created.json()) as { id: string };
    const put = await w.a.operator.put(`/api/config-templates/${id}`, {
      name: 'dns2',
      body: '/ip dns set servers={{dns}},{{dns2}}',
      variables: [
        { name: 'dns', type: 'ip' },
        { name: 'dns2', type: 'ip', default: '9.9.9.9' },
      ],
    });
    expect(put.status).toBe(200);
    const list = (await (await w.a.viewer.get('/api/config-templates?q=dns')).json()) as {
      items: { name: string }[];
    };
    expect(list.items.map((t) => t.name)).toEqual(['dns2']);
    expect((await w.a.operator.delete(`/api/config-templates/${id}`)).status).toBe(204);
    expect((await w.a.viewer.get(`/api/config-templates/${id}`)).status).toBe(404);
    const audit = await w.sql<{ action: string }[]>`
      SELECT action FROM audit_log WHERE target_id = ${id} ORDER BY created_at`;
    expect(audit.map((a) => a.action)).toEqual([
      'config_template.create',
      'config_template.update',
      'config_template.delete',
    ]);
  });
});

describe('running batches', () => {
  it('records per-device results, streams progress on SSE and audits start and finish', async () => {
    const sse = await SseClient.open(w.a.viewer, '/api/sse?topics=config');
    expect(sse.status).toBe(200);
    const b = await start({
      selection: { filter: 'rtr-' },
      action: { kind: 'cli', script: '/system identity print' },
      concurrency: 3,
    });
    expect(b.counts.total).toBe(6);
    expect(b.items.map((i) => i.deviceName)).toEqual(['rtr-0', 'rtr-1', 'rtr-2', 'rtr-3', 'rtr-4', 'rtr-5']);
    const done = await finished(b.id);
    expect(done.state).toBe('completed');
    // No collector is online: every device fails with the channel's own error text, none is skipped.
    expect(done.counts).toMatchObject({ total: 6, failed: 6, skipped: 0, pending: 0, running: 0 });
    for (const i of done.items) {
      expect(i.error).toBeTruthy();
      expect(i.finishedAt).not.toBeNull();
    }
    expect(done.groups).toEqual([]);
    const last = await sse.until(
      () =>
        sse.events
          .filter((e) => e.event === 'config-batch')
          .map((e) => ConfigBatchProgress.parse(JSON.parse(e.data)))
          .find((p) => p.batch.id === b.id && p.batch.state === 'completed'),
      20_000,
      'the final config-batch event',
    );
    expect(last.batch.counts.failed).toBe(6);
    const perDevice = sse.events
      .filter((e) => e.event === 'config-batch')
      .map((e) => ConfigBatchProgress.parse(JSON.parse(e.data)))
      .filter((p) => p.batch.id === b.id)
      .flatMap((p) => p.items.map((i) => `${i.deviceName}:${i.state}`));
    for (const name of ['rtr-0', 'rtr-5']) {
      expect(perDevice).toContain(`${name}:running`);
      expect(perDevice).toContain(`${name}:failed`);
    }
    sse.close();
    const audit = await w.sql<{ action: string; outcome: string }[]>`
      SELECT action, outcome FROM audit_log WHERE target_id = ${b.id} ORDER BY created_at`;
    expect(audit).toEqual([
      { action: 'config_batch.create', outcome: 'success' },
      { action: 'config_batch.finish', outcome: 'failure' },
    ]);
  });

  it('fails devices a template does not render for without sending them anything', async () => {
    const b = await start({
      selection: { deviceIds: [devicesA[0]!, devicesA[1]!] },
      action: {
        kind: 'template',
        templateId: templateA,
        variables: { vlan: 10 },
        deviceVariables: { [devicesA[1]!]: { vlan: 99999 } },
      },
    });
    const bad = b.items.find((i) => i.deviceId === devicesA[1]!)!;
    expect(bad).toMatchObject({ state: 'failed', commands: [], error: 'vlan: must be at most 4094' });
    expect(b.items.find((i) => i.deviceId === devicesA[0]!)!.commands).toEqual([
      '/interface vlan add name=vlan10 vlan-id=10 interface=ether1 comment="Vienna "',
    ]);
    await finished(b.id);
  });

  it('stops at the first failure when asked: the devices not started are skipped', async () => {
    const b = await start({
      selection: { filter: 'rtr-' },
      action: { kind: 'script', script: '/ip dns set servers=1.1.1.1' },
      concurrency: 1,
      stopOnFailure: true,
    });
    const done = await finished(b.id);
    expect(done.state).toBe('stopped');
    expect(done.items.map((i) => i.state)).toEqual([
      'failed',
      'skipped',
      'skipped',
      'skipped',
      'skipped',
      'skipped',
    ]);
  });

  it('cancels a batch: the devices not started are cancelled, a finished batch cannot be', async () => {
    // Selected by group, one at a time: cancel lands while the batch runs (or just after it ended).
    const b = await start({
      selection: { filter: 'status:unknown model:RB5009' },
      action: { kind: 'cli', script: '/ip address print' },
      concurrency: 1,
    });
    const res = await w.a.operator.post(`/api/config-batches/${b.id}/cancel`, {});
    const done = await finished(b.id);
    if (res.status === 200) {
      expect(done.state).toBe('cancelled');
      expect(done.items.filter((i) => i.state === 'cancelled').length).toBeGreaterThan(0);
    } else expect(res.status).toBe(409);
    expect((await w.a.operator.post(`/api/config-batches/${b.id}/cancel`, {})).status).toBe(409);
  });

  it('lists batches newest first with their counts', async () => {
    const page = (await (await w.a.viewer.get('/api/config-batches?limit=2')).json()) as {
      items: { counts: { total: number } }[];
      nextCursor: string | null;
    };
    expect(page.items.length).toBe(2);
    expect(page.nextCursor).not.toBeNull();
    const next = await w.a.viewer.get(`/api/config-batches?limit=2&cursor=${page.nextCursor}`);
    expect(next.status).toBe(200);
  });
});

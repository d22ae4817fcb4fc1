import postgres from 'postgres';
import { afterAll, describe, expect, it } from 'vitest';
import { freshDatabase } from '../../../tests/env';
import { openDb, withTenant } from '../db';
import { createOperation, maskCommand } from './config-operations';

describe('maskCommand', () => {
  it('masks secret values, bare or quoted, and leaves the rest', () => {
    expect(maskCommand('/user set *1 password=hunter2 comment="a b"')).toBe(
      '/user set *1 password=******** comment="a b"',
    );
    expect(maskCommand('/interface wifi security add name=s wpa2-pre-shared-key="my \\"key\\" here"')).toBe(
      '/interface wifi security add name=s wpa2-pre-shared-key=********',
    );
    expect(maskCommand('/ip address add address=10.0.0.1/24 interface=ether2')).toBe(
      '/ip address add address=10.0.0.1/24 interface=ether2',
    );
  });
});

describe('createOperation', () => {
  const handles: { end(): Promise<unknown> }[] = [];
  afterAll(() => Promise.all(handles.map((h) => h.end())));

  it('stores the commands with their secret values masked', async () => {
    const db = await freshDatabase();
    const sql = postgres(db.superUrl, { max: 1, onnotice: () => {} });
    const app = openDb(db.appUrl);
    handles.push(sql, { end: () => app.close() });
    const [t] = await sql<{ id: string }[]>`INSERT INTO tenants (name, slug) VALUES ('T', 't') RETURNING id`;
    const [d] = await sql<{ id: string }[]>`
      INSERT INTO devices (tenant_id, name, host) VALUES (${t!.id}, 'r1', '192.0.2.1') RETURNING id`;
    const op = await withTenant(app.db, t!.id, (tx) =>
      createOperation(tx, {
        tenantId: t!.id,
        deviceId: d!.id,
        kind: 'changes',
        mode: 'safe',
        commands: ['/user set *1 password="s3cret pw"', '/system identity set name=core-1'],
        createdBy: null,
      }),
    );
    const [row] = await sql<
      { commands: string[] }[]
    >`SELECT commands FROM config_operations WHERE id = ${op.id}`;
    expect(row!.commands).toEqual(['/user set *1 password=********', '/system identity set name=core-1']);
    expect(JSON.stringify(row)).not.toContain('s3cret');
  });
});

import { normaliseExport, unifiedDiff } from '@tod/contracts';
import iconv from 'iconv-lite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Fleet, startFleet } from '../../../simulator/src/fleet';
import { RouterSession } from '../routeros/session';
import { ConfigExportError, exportConfig, win1252Bytes } from './export';

let fleet: Fleet;
const opts = { connectTimeoutMs: 5000, commandTimeoutMs: 5000 };
const noWait = async () => {};

beforeAll(async () => {
  fleet = await startFleet({
    devices: 2,
    boards: ['rb5009'],
    tls: false,
    overrides: { 1: { version: '6.49.10' } },
    users: [{ name: 'ro', password: 'ro-pass', group: 'read' }],
  });
});
afterAll(() => fleet?.stop());

async function session(index: number, user = 'admin', password = 'admin'): Promise<RouterSession> {
  const d = fleet.manifest.devices[index]!;
  return RouterSession.open(
    { host: d.host, port: d.port, tlsPort: d.port, tlsMode: 'plain', username: user, password },
    opts,
  );
}

async function files(s: RouterSession): Promise<string[]> {
  return (await s.run('/file/print')).map((r) => r.name ?? '');
}

describe('exportConfig against the simulator', () => {
  it('reads the export back through a file and removes the file', async () => {
    const s = await session(0);
    try {
      const result = await exportConfig(s, { showSensitive: false, delay: noWait });
      expect(result.text).toMatch(/^# .* by RouterOS 7\./);
      expect(result.text).toContain('/system identity');
      expect(result.text).toContain(`set name=${fleet.manifest.devices[0]!.identity}`);
      expect(result.sensitive).toBe(false);
      expect(result.routerosVersion).toMatch(/^7\./);
      expect(result.leftoverFile).toBeUndefined();
      expect((await files(s)).some((n) => n.includes('tod-export'))).toBe(false);
    } finally {
      s.close();
    }
  });

  it('gives the same normalised text when nothing changed and the right diff after a change', async () => {
    const s = await session(0);
    const admin = await session(0);
    try {
      const first = normaliseExport((await exportConfig(s, { showSensitive: false, delay: noWait })).text);
      const again = normaliseExport((await exportConfig(s, { showSensitive: false, delay: noWait })).text);
      expect(again).toBe(first);
      await admin.run('/ip/dns/set', { servers: '9.9.9.9' });
      const after = normaliseExport((await exportConfig(s, { showSensitive: false, delay: noWait })).text);
      const diff = unifiedDiff(first, after);
      expect(diff).toMatch(/^\+set .*servers=9\.9\.9\.9/m);
      expect(diff.split('\n').filter((l) => /^[+-][^+-]/.test(l))).toHaveLength(2);
    } finally {
      s.close();
      admin.close();
    }
  });

  it('includes secrets only with show-sensitive on 7.x', async () => {
    const s = await session(0);
    try {
      await s.run('/interface/wireguard/add', {
        name: 'wg-backup',
        'private-key': 'cGhhbnRvbS1wcml2YXRlLWtleS1mb3ItdGVzdGluZzE=',
        'listen-port': '13231',
      });
      const hidden = await exportConfig(s, { showSensitive: false, delay: noWait });
      expect(hidden.text).toContain('name=wg-backup');
      expect(hidden.text).not.toContain('cGhhbnRvbS1wcml2YXRl');
      const shown = await exportConfig(s, { showSensitive: true, delay: noWait });
      expect(shown.sensitive).toBe(true);
      expect(shown.text).toContain('private-key="cGhhbnRvbS1wcml2YXRl');
    } finally {
      s.close();
    }
  });

  it('asks a 6.x device to hide secrets unless they are allowed', async () => {
    const s = await session(1);
    try {
      await s.run('/interface/wireguard/add', { name: 'wg6', 'private-key': 'c2l4LXNlY3JldC1rZXk=' });
      const hidden = await exportConfig(s, { showSensitive: false, delay: noWait });
      expect(hidden.routerosVersion).toMatch(/^6\./);
      expect(hidden.text).toContain('by RouterOS 6.');
      expect(hidden.text).not.toContain('c2l4LXNlY3JldC1rZXk=');
      const shown = await exportConfig(s, { showSensitive: true, delay: noWait });
      expect(shown.text).toContain('c2l4LXNlY3JldC1rZXk=');
    } finally {
      s.close();
    }
  });

  it('reports the export file it could not remove for a read-only user', async () => {
    const s = await session(0, 'ro', 'ro-pass');
    try {
      const result = await exportConfig(s, { showSensitive: false, delay: noWait });
      expect(result.text).toContain('/system identity');
      expect(result.leftoverFile).toMatch(/^tod-export-[0-9a-f]{12}\.rsc$/);
      expect(await files(s)).toContain(result.leftoverFile);
    } finally {
      s.close();
    }
  });

  it('fails with a clear error when the export is too large to read over the API', async () => {
    const s = await session(0);
    const exportsOnDisk = async () => (await files(s)).filter((n) => n.includes('tod-export'));
    try {
      const before = await exportsOnDisk();
      for (let i = 0; i < 120; i++)
        await s.run('/ip/firewall/address-list/add', { list: 'bulk', address: `10.9.${i}.0/24` });
      const err = await exportConfig(s, { showSensitive: false, delay: noWait }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ConfigExportError);
      expect((err as ConfigExportError).code).toBe('export_unreadable');
      // The unreadable file does not stay behind.
      expect(await exportsOnDisk()).toEqual(before);
    } finally {
      s.close();
    }
  });
});

describe('win1252Bytes', () => {
  it('recovers the UTF-8 bytes node-routeros decoded as Windows-1252', () => {
    const text = 'comment="Büro – Zürich €"';
    const asWords = iconv.decode(Buffer.from(text, 'utf8'), 'win1252');
    expect(win1252Bytes(asWords).toString('utf8')).toBe(text);
  });
});

// The collector's client (node-routeros 1.6.9) against the simulator over plain TCP and API-SSL.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RouterOSAPI } from 'node-routeros';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADH_CIPHERS, type Fleet, startFleet } from '../src/index';
import { RawClient, rows } from './helpers/raw-client';

let fleet: Fleet;
const apis: RouterOSAPI[] = [];
function api(port: number, extra: Partial<ConstructorParameters<typeof RouterOSAPI>[0]> = {}): RouterOSAPI {
  const a = new RouterOSAPI({
    host: '127.0.0.1',
    port,
    user: 'admin',
    password: 'admin',
    timeout: 5,
    ...extra,
  });
  apis.push(a);
  return a;
}

beforeAll(async () => {
  fleet = await startFleet({
    devices: 3,
    boards: ['rb5009', 'lhg-5', 'crs326'],
    tls: { mode: 'self-signed' },
  });
});
afterAll(async () => {
  for (const a of apis) if (a.connected) await a.close().catch(() => undefined);
  await fleet.stop();
});

describe('node-routeros 1.6.9', () => {
  it('logs in and reads the resource menu of a 7.x device', async () => {
    const a = api(fleet.manifest.devices[0]?.port ?? 0);
    await a.connect();
    const [res] = await a.write('/system/resource/print');
    expect(res).toMatchObject({
      'board-name': 'RB5009UG+S+',
      'architecture-name': 'arm64',
      platform: 'MikroTik',
    });
    expect(res?.version).toBe('7.16.2 (stable)');
  });

  it('logs in to a pre-6.43 device through its challenge fallback', async () => {
    const a = api(fleet.manifest.devices[1]?.port ?? 0);
    await a.connect();
    const [rb] = await a.write('/system/routerboard/print');
    expect(rb?.model).toBe('RBLHGG-5acD');
    expect(rb?.['board-name']).toBeUndefined();
  });

  it('fails login with CANTLOGIN on a wrong password', async () => {
    const a = api(fleet.manifest.devices[0]?.port ?? 0, { password: 'wrong' });
    await expect(a.connect()).rejects.toMatchObject({ errno: 'CANTLOGIN' });
  });

  it('runs concurrent commands on one connection and gets add ids back', async () => {
    const a = api(fleet.manifest.devices[2]?.port ?? 0);
    await a.connect();
    const [ifaces, addr, ident] = await Promise.all([
      a.write('/interface/print', ['?type=ether', '=.proplist=name']),
      a.write('/ip/address/add', ['=address=172.16.0.1/24', '=interface=ether5']),
      a.write('/system/identity/print'),
    ]);
    expect(ifaces.length).toBe(26);
    expect(addr[0]?.ret).toMatch(/^\*[0-9A-F]+$/);
    expect(ident[0]?.name).toBe('sim-00002');
    await expect(a.write('/ip/address/add', ['=address=1.2.3.4/24', '=interface=nope'])).rejects.toThrow(
      'input does not match any value of interface',
    );
    await expect(a.write('/foo/print')).rejects.toThrow('no such command or directory (foo)');
  });

  it('streams listen updates and stops them with /cancel', async () => {
    const a = api(fleet.manifest.devices[0]?.port ?? 0);
    await a.connect();
    const seen: string[] = [];
    const stream = a.stream(
      '/ip/firewall/address-list/listen',
      [],
      (err: Error | null, packet?: Record<string, string>) => {
        if (!err && packet?.address) seen.push(packet.address);
      },
    );
    await new Promise((r) => setTimeout(r, 50));
    await a.write('/ip/firewall/address-list/add', ['=list=x', '=address=10.7.7.7']);
    for (let i = 0; i < 50 && seen.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(seen).toContain('10.7.7.7');
    await stream.stop();
  });

  it('connects over API-SSL with a self-signed certificate', async () => {
    const a = api(fleet.manifest.devices[0]?.tlsPort ?? 0, { tls: { rejectUnauthorized: false } });
    await a.connect();
    const [id] = await a.write('/system/identity/print');
    expect(id?.name).toBe('sim-00000');
  });
});

describe('API-SSL modes', () => {
  it('serves anonymous-DH TLS 1.2 when configured without a certificate', async () => {
    const adh = await startFleet({ devices: 1, tls: { mode: 'adh' } });
    try {
      const c = await RawClient.connectTls(adh.manifest.devices[0]?.tlsPort ?? 0, {
        ciphers: ADH_CIPHERS,
        maxVersion: 'TLSv1.2',
      });
      await c.login();
      expect(rows(await c.call(['/system/identity/print'], 't'))[0]?.name).toBe('sim-00000');
      c.close();
    } finally {
      await adh.stop();
    }
  });

  it('presents a certificate signed by a given CA that verifies against it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ca-'));
    try {
      execFileSync(
        'openssl',
        [
          'req',
          '-x509',
          '-newkey',
          'rsa:2048',
          '-nodes',
          '-keyout',
          'ca.key',
          '-out',
          'ca.crt',
          '-days',
          '30',
          '-subj',
          '/CN=tod-test-ca',
        ],
        { cwd: dir, stdio: 'ignore' },
      );
      const ca = readFileSync(join(dir, 'ca.crt'), 'utf8');
      const signed = await startFleet({
        devices: 1,
        tls: { mode: 'ca-signed', caKey: readFileSync(join(dir, 'ca.key'), 'utf8'), caCert: ca },
      });
      try {
        const c = await RawClient.connectTls(signed.manifest.devices[0]?.tlsPort ?? 0, {
          rejectUnauthorized: true,
          ca,
          servername: 'localhost',
        });
        await c.login();
        c.close();
        await expect(
          RawClient.connectTls(signed.manifest.devices[0]?.tlsPort ?? 0, {
            rejectUnauthorized: true,
            servername: 'localhost',
          }),
        ).rejects.toThrow();
      } finally {
        await signed.stop();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

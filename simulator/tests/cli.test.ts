// The `sim` CLI as a separate process: it writes a manifest whose devices answer on the listed ports.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, expect, it } from 'vitest';
import type { FleetManifest } from '../src/index';
import { RawClient, rows } from './helpers/raw-client';

const dir = mkdtempSync(join(tmpdir(), 'tod-sim-cli-'));
let child: ChildProcess | undefined;
afterAll(() => {
  if (child?.pid && child.exitCode === null) child.kill('SIGTERM');
  rmSync(dir, { recursive: true, force: true });
});

it('runs N devices and writes a manifest with ports, TLS ports, credentials and models', async () => {
  const manifestPath = join(dir, 'fleet.json');
  const cli = join(dirname(fileURLToPath(import.meta.url)), '..', 'src', 'cli.ts');
  child = spawn(process.execPath, ['--import', 'tsx', cli, '--devices', '4', '--manifest', manifestPath], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('cli did not start')), 15000);
    child?.stdout?.on('data', () => {
      if (existsSync(manifestPath)) {
        clearTimeout(t);
        resolve();
      }
    });
    child?.once('exit', (code) => reject(new Error(`cli exited ${code}`)));
  });
  const m = JSON.parse(readFileSync(manifestPath, 'utf8')) as FleetManifest;
  expect(m.devices).toHaveLength(4);
  expect(m.devices.map((d) => d.model)).toEqual([
    'RB5009UG+S+',
    'C53UiG+5HPaxD2HPaxD',
    'RBLHGG-5acD',
    'CRS326-24G-2S+',
  ]);
  expect(m.devices.every((d) => d.tlsPort && d.port)).toBe(true);
  const c = await RawClient.connect(m.devices[3]?.port ?? 0);
  await c.login(m.credentials.username, m.credentials.password);
  expect(rows(await c.call(['/system/resource/print'], 'r'))[0]?.['board-name']).toBe('CRS326-24G-2S+');
  c.close();
  const exited = new Promise((r) => child?.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}, 20000);

// `npm run sim -- --devices N [--manifest path] [--no-tls] [--adh] [--control-port P]`: run a fleet until SIGINT.

import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { startControlServer } from './control';
import { startFleet } from './fleet';

const { values } = parseArgs({
  options: {
    devices: { type: 'string', default: '10' },
    manifest: { type: 'string', default: '.tod/fleet.json' },
    host: { type: 'string', default: '127.0.0.1' },
    password: { type: 'string', default: 'admin' },
    'no-tls': { type: 'boolean', default: false },
    adh: { type: 'boolean', default: false },
    'control-port': { type: 'string', default: '0' },
    boards: { type: 'string' },
  },
});

const count = Number(values.devices);
if (!Number.isInteger(count) || count <= 0) {
  console.error('--devices must be a positive integer');
  process.exit(2);
}
const fleet = await startFleet({
  devices: count,
  host: values.host,
  adminPassword: values.password,
  tls: values['no-tls'] ? false : values.adh ? { mode: 'adh' } : { mode: 'self-signed' },
  users: [
    { name: 'reader', password: 'reader', group: 'read' },
    { name: 'writer', password: 'writer', group: 'write' },
  ],
  ...(values.boards ? { boards: values.boards.split(',') } : {}),
});
const control = await startControlServer(fleet, values.host, Number(values['control-port']));
fleet.manifest.controlUrl = control.url;
const path = resolve(process.env.INIT_CWD ?? process.cwd(), values.manifest);
mkdirSync(dirname(path), { recursive: true });
writeFileSync(path, `${JSON.stringify(fleet.manifest, null, 2)}\n`);
console.log(`${count} devices on ${values.host}, manifest ${path}, control ${control.url}`);

const shutdown = async () => {
  await control.close();
  await fleet.stop();
  process.exit(0);
};
process.on('SIGINT', () => void shutdown());
process.on('SIGTERM', () => void shutdown());

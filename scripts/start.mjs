#!/usr/bin/env node
// `npm start`, stage one, with no dependencies: install what is missing (npm packages, nats-server), then
// hand over to the TypeScript stack launcher (scripts/dev-stack.ts).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const fail = (line) => {
  console.error(`TOD: ${line}`);
  process.exit(1);
};

const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 20 || (major === 20 && minor < 19))
  fail(`Node ${process.versions.node} is too old: TOD needs Node 20.19 or newer`);

// npm packages: install when node_modules is missing or older than the lockfile.
const marker = join(root, 'node_modules', '.package-lock.json');
const lock = join(root, 'package-lock.json');
if (!existsSync(marker) || (existsSync(lock) && statSync(lock).mtimeMs > statSync(marker).mtimeMs)) {
  console.log('TOD: installing npm packages (first run)…');
  const npm = spawnSync('npm', ['install', '--no-fund', '--no-audit'], {
    cwd: root,
    stdio: 'inherit',
  });
  if (npm.status !== 0) fail('npm install failed (see above)');
}

// nats-server: only needed when TOD runs its own (no NATS_URL given).
const hasNats = () =>
  ['/usr/bin/nats-server', '/usr/sbin/nats-server'].some((p) => existsSync(p)) ||
  spawnSync('sh', ['-c', 'command -v nats-server'], { stdio: 'ignore' }).status === 0;
if (!process.env.NATS_URL && !hasNats()) {
  if (process.getuid?.() === 0 && existsSync('/usr/bin/apt-get')) {
    console.log('TOD: installing nats-server (Debian package)…');
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    const update = spawnSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
    const install = spawnSync('apt-get', ['install', '-y', '-qq', 'nats-server'], { stdio: 'inherit', env });
    if (update.status !== 0 || install.status !== 0)
      fail('could not install nats-server with apt-get (see above)');
  } else {
    fail(
      'nats-server is missing: run `sudo apt-get install -y nats-server`, or set NATS_URL and NATS_WS_URL',
    );
  }
}

const tsx = join(root, 'node_modules', '.bin', 'tsx');
const child = spawn(tsx, [join(root, 'scripts', 'dev-stack.ts'), ...process.argv.slice(2)], {
  cwd: root,
  stdio: 'inherit',
});
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 0 : 1)));

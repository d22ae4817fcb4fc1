// Bench: a 10,000-device fleet in one process; records RSS and how many API sentences per second it serves.
// Run: npm run bench (tsx bench/simulator.ts). Env: BENCH_DEVICES, BENCH_SECONDS, BENCH_CONNECTIONS, BENCH_DEPTH.
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { startFleet } from '../simulator/src/index';

const DEVICES = Number(process.env.BENCH_DEVICES ?? 10000);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 20);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 400);
const DEPTH = Number(process.env.BENCH_DEPTH ?? 4);
const mib = (b: number) => Math.round((b / 1048576) * 10) / 10;
const rss = () => process.memoryUsage().rss;

// The load generator runs in a worker thread (second core), speaking raw API bytes so it costs little per sentence.
const CLIENT = `
const { parentPort, workerData } = require('node:worker_threads');
const net = require('node:net');
const crypto = require('node:crypto');
const { ports, seconds, depth } = workerData;
function enc(words) {
  const parts = [];
  for (const w of words) { const b = Buffer.from(w, 'latin1'); const n = b.length;
    parts.push(n < 0x80 ? Buffer.from([n]) : Buffer.from([(n >> 8) | 0x80, n & 0xff]), b); }
  parts.push(Buffer.from([0])); return Buffer.concat(parts);
}
const CMDS = [['/system/resource/print'], ['/interface/print', '=.proplist=name,rx-byte,tx-byte'], ['/ip/address/print'], ['/system/identity/print']];
let sentences = 0, commands = 0, errors = 0, measuring = false;
function client(port) {
  const s = net.connect({ port, host: '127.0.0.1' });
  s.setNoDelay(true);
  let buf = Buffer.alloc(0), words = [], loggedIn = false, seq = 0;
  const send = () => { const c = CMDS[seq % CMDS.length]; s.write(enc([...c, '.tag=' + (seq++)])); };
  s.on('connect', () => s.write(enc(['/login', '=name=admin', '=password=admin', '.tag=l'])));
  s.on('data', (chunk) => {
    buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
    let off = 0;
    for (;;) {
      if (off >= buf.length) break;
      const b0 = buf[off]; let len, hl;
      if (b0 < 0x80) { len = b0; hl = 1; } else if (b0 < 0xc0) { if (off + 2 > buf.length) break; len = ((b0 & 0x3f) << 8) | buf[off + 1]; hl = 2; }
      else if (b0 < 0xe0) { if (off + 3 > buf.length) break; len = ((b0 & 0x1f) << 16) | (buf[off + 1] << 8) | buf[off + 2]; hl = 3; }
      else { errors++; s.destroy(); return; }
      if (off + hl + len > buf.length) break;
      const w = buf.toString('latin1', off + hl, off + hl + len); off += hl + len;
      if (len === 0) {
        if (measuring) sentences++;
        const head = words[0]; const ret = words.find((x) => x.startsWith('=ret=')); words = [];
        if (head === '!done') {
          if (!loggedIn && ret) { // pre-6.43 device: answer the MD5 challenge
            const md5 = crypto.createHash('md5').update(Buffer.concat([Buffer.from([0]), Buffer.from('admin'), Buffer.from(ret.slice(5), 'hex')])).digest('hex');
            s.write(enc(['/login', '=name=admin', '=response=00' + md5, '.tag=l2']));
          } else if (!loggedIn) { loggedIn = true; for (let i = 0; i < depth; i++) send(); }
          else { if (measuring) commands++; send(); }
        } else if (head === '!trap' || head === '!fatal') errors++;
      } else words.push(w);
    }
    buf = buf.subarray(off);
  });
  s.on('error', () => errors++);
  return s;
}
const socks = ports.map(client);
setTimeout(() => { measuring = true; sentences = 0; commands = 0; const t0 = Date.now();
  setTimeout(() => { measuring = false; const secs = (Date.now() - t0) / 1000;
    for (const s of socks) s.destroy();
    parentPort.postMessage({ sentences, commands, errors, secs });
  }, seconds * 1000);
}, 2000);
`;

async function main(): Promise<void> {
  const rss0 = rss();
  const t0 = Date.now();
  const fleet = await startFleet({ devices: DEVICES, tls: false });
  const startMs = Date.now() - t0;
  global.gc?.();
  const rssIdle = rss();
  console.log(`started ${DEVICES} devices in ${startMs} ms, rss ${mib(rssIdle)} MiB`);

  const stride = Math.max(1, Math.floor(DEVICES / CONNECTIONS));
  const ports = fleet.manifest.devices
    .filter((_, i) => i % stride === 0)
    .slice(0, CONNECTIONS)
    .map((d) => d.port);
  const worker = new Worker(CLIENT, { eval: true, workerData: { ports, seconds: SECONDS, depth: DEPTH } });
  let peakUnderLoad = rss();
  const sampler = setInterval(() => (peakUnderLoad = Math.max(peakUnderLoad, rss())), 500);
  const result = await new Promise<{ sentences: number; commands: number; errors: number; secs: number }>(
    (resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    },
  );
  clearInterval(sampler);
  await worker.terminate();
  const rssAfterLoad = rss();

  // Every device with its full config tree built (as if each had been polled once).
  for (const s of fleet.devices) s.device.table('identity');
  global.gc?.();
  const rssAllBuilt = rss();
  await fleet.stop();

  const out = {
    date: new Date().toISOString(),
    machine: {
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model ?? '',
      totalMemMiB: mib(totalmem()),
      node: process.version,
    },
    devices: DEVICES,
    startupMs: startMs,
    rssMiB: {
      baseline: mib(rss0),
      idleFleet: mib(rssIdle),
      peakUnderLoad: mib(peakUnderLoad),
      afterLoad: mib(rssAfterLoad),
      allDeviceStatesBuilt: mib(rssAllBuilt),
    },
    load: {
      connections: ports.length,
      pipelineDepth: DEPTH,
      seconds: Math.round(result.secs * 10) / 10,
      replySentences: result.sentences,
      commands: result.commands,
      errors: result.errors,
      replySentencesPerSecond: Math.round(result.sentences / result.secs),
      commandsPerSecond: Math.round(result.commands / result.secs),
    },
    command: 'npm run bench (tsx bench/simulator.ts)',
  };
  const file = join(dirname(fileURLToPath(import.meta.url)), 'results', 'simulator.json');
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(out, null, 2)}\n`);
  console.log(JSON.stringify(out, null, 2));
}

await main();

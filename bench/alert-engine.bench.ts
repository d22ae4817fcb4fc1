// Bench: the TenantHub's alert engine alone (pure CPU). A tenant of BENCH_DEVICES devices, each poll giving a
// status, resource, interfaces (8 ports) and health event, evaluated against 10 rules in batches of 500
// events; records events per second and the cost of serialising the engine state the hub keeps in storage.
// Run: npm run bench alert-engine. Env: BENCH_DEVICES, BENCH_POLLS.
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DeviceEvent } from '../contracts/src/events';
import { AlertEngine, type EngineRule } from '../edge/src/alerting/engine';

const DEVICES = Number(process.env.BENCH_DEVICES ?? 5000);
const POLLS = Number(process.env.BENCH_POLLS ?? 6);
const BATCH = 500;
const TENANT = '00000000-0000-4000-8000-00000000000a';
const COLLECTOR = '00000000-0000-4000-8000-0000000000c1';

const rule = (id: string, over: Partial<EngineRule>): EngineRule => ({
  id,
  name: id,
  metric: 'cpu_load',
  comparison: 'gt',
  threshold: 90,
  durationSeconds: 0,
  severity: 'warning',
  scope: 'all',
  scopeTargetId: null,
  interfaceName: null,
  fireAfter: 2,
  clearAfter: 2,
  enabled: true,
  ...over,
});
const RULES: EngineRule[] = [
  rule('cpu-warn', { threshold: 80 }),
  rule('cpu-crit', { threshold: 95, severity: 'critical' }),
  rule('mem', { metric: 'memory_used_pct', threshold: 90 }),
  rule('disk', { metric: 'disk_used_pct', threshold: 90 }),
  rule('temp', { metric: 'temperature', threshold: 70 }),
  rule('volt', { metric: 'voltage', comparison: 'lt', threshold: 11 }),
  rule('rx', { metric: 'interface_rx_bps', threshold: 9e8 }),
  rule('tx', { metric: 'interface_tx_bps', threshold: 9e8 }),
  rule('down', { metric: 'device_offline', comparison: null, threshold: null, severity: 'critical' }),
  rule('wan-only', { metric: 'interface_rx_bps', threshold: 5e8, interfaceName: 'ether1' }),
];

const ids = Array.from(
  { length: DEVICES },
  (_, i) => `00000000-0000-4000-8000-${i.toString(16).padStart(12, '0')}`,
);
let seq = 0;
function pollEvents(deviceId: string, poll: number): DeviceEvent[] {
  const at = new Date(Date.UTC(2026, 10, 23, 10, 0, 0) + poll * 30_000).toISOString();
  const env = { v: 1 as const, tenantId: TENANT, deviceId, collectorId: COLLECTOR, at };
  const hot = (seq & 7) === 0;
  return [
    {
      ...env,
      id: `e${seq++}`,
      kind: 'status',
      data: { status: hot ? 'unreachable' : 'online', consecutiveFailures: 0 },
    },
    {
      ...env,
      id: `e${seq++}`,
      kind: 'resource',
      data: {
        identity: 'r',
        cpuLoad: hot ? 97 : 20,
        freeMemory: 30,
        totalMemory: 100,
        freeHdd: 50,
        totalHdd: 100,
        uptimeSeconds: 100,
        version: '7.16',
        boardName: 'CCR',
        architecture: 'arm64',
      },
    },
    {
      ...env,
      id: `e${seq++}`,
      kind: 'interfaces',
      data: {
        interfaces: Array.from({ length: 8 }, (_, k) => ({
          name: `ether${k + 1}`,
          type: 'ether',
          running: true,
          disabled: false,
          rxBytes: 1,
          txBytes: 1,
          rxPackets: 1,
          txPackets: 1,
          rxBps: hot ? 9.5e8 : 1e6,
          txBps: 1e6,
        })),
      },
    },
    { ...env, id: `e${seq++}`, kind: 'health', data: { voltage: 24, temperatureC: hot ? 75 : 45 } },
  ];
}

function main() {
  const engine = new AlertEngine();
  engine.setRules(RULES, { groups: {}, tags: {} }, new Date());
  const batches: DeviceEvent[][] = [];
  for (let p = 0; p < POLLS; p++) {
    let cur: DeviceEvent[] = [];
    for (const d of ids) {
      cur.push(...pollEvents(d, p));
      if (cur.length >= BATCH) {
        batches.push(cur);
        cur = [];
      }
    }
    if (cur.length) batches.push(cur);
  }
  const total = batches.reduce((n, b) => n + b.length, 0);
  let transitions = 0;
  const t0 = performance.now();
  let persistMs = 0;
  for (const b of batches) {
    transitions += engine.ingest(b, new Date()).length;
    // What a hub writes after each batch: the changed devices' state, serialised.
    const p0 = performance.now();
    JSON.stringify(Object.fromEntries(engine.takeDirty()));
    persistMs += performance.now() - p0;
  }
  const ingestMs = performance.now() - t0;
  persistMs /= batches.length;
  const s0 = performance.now();
  const json = JSON.stringify(engine.toJSON());
  const serialiseMs = performance.now() - s0;
  const r0 = performance.now();
  AlertEngine.fromJSON(JSON.parse(json));
  const restoreMs = performance.now() - r0;
  const out = {
    date: new Date().toISOString(),
    machine: {
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model.split(' ').slice(0, 2).join(' '),
      totalMemMiB: Math.round(totalmem() / 104857.6) / 10,
      node: process.version,
    },
    devices: DEVICES,
    rules: RULES.length,
    polls: POLLS,
    events: total,
    batchSize: BATCH,
    transitions,
    eventsPerSecond: Math.round(total / (ingestMs / 1000)),
    ingestMs: Math.round(ingestMs),
    state: {
      devices: Object.keys(engine.toJSON().devices).length,
      ruleKeys: Object.values(engine.toJSON().devices).reduce((n, d) => n + Object.keys(d.keys).length, 0),
      dirtyPerBatchPersistMs: Math.round(persistMs * 10) / 10,
      jsonKiB: Math.round(json.length / 1024),
      serialiseMs: Math.round(serialiseMs * 10) / 10,
      restoreMs: Math.round(restoreMs * 10) / 10,
    },
    command: 'npm run bench alert-engine',
  };
  const file = join(dirname(fileURLToPath(import.meta.url)), 'results', 'alert-engine.json');
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(out, null, 2)}\n`);
  console.log(JSON.stringify(out, null, 2));
}

main();

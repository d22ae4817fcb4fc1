// `npm run bench`: runs every benchmark under bench/ (files named *.bench.ts) one after another, each in its
// own process so one's memory does not colour another's; each writes its JSON under bench/results/.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

const dir = import.meta.dirname;
const only = process.argv.slice(2);
const benches = readdirSync(dir)
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => only.length === 0 || only.some((o) => f.includes(o)))
  .sort();
if (benches.length === 0) {
  console.error('bench: no benchmarks matched');
  process.exit(1);
}
let failed = 0;
for (const file of benches) {
  console.log(`bench: ${file}`);
  const res = spawnSync(process.execPath, ['--import', 'tsx', '--expose-gc', join(dir, file)], {
    stdio: 'inherit',
  });
  if (res.status !== 0) failed++;
}
process.exit(failed ? 1 : 0);

// The API is reachable only while its /ip/service entry is enabled: disabling `api` ends the sessions on the
// plain port and refuses new ones; a revert scheduler that loads the saved config brings it back.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Fleet, ManualClock, startFleet } from '../src/index';
import { RawClient, rows } from './helpers/raw-client';

const clock = new ManualClock(Date.UTC(2025, 0, 12, 8, 0, 0));
let fleet: Fleet;
const clients: RawClient[] = [];
let seq = 0;
const q = async (c: RawClient, words: string[]) => c.call(words, `t${seq++}`);
const port = () => fleet.manifest.devices[0]?.port ?? 0;
async function loggedIn(): Promise<RawClient> {
  const c = await RawClient.connect(port());
  clients.push(c);
  await c.login();
  return c;
}
async function refused(): Promise<boolean> {
  try {
    const c = await RawClient.connect(port());
    clients.push(c);
    await c.closedPromise;
    return true;
  } catch {
    return true;
  }
}

beforeAll(async () => {
  fleet = await startFleet({ devices: 1, tls: false, clock, boards: ['rb5009'], rebootDurationMs: 2000 });
});
afterAll(async () => {
  for (const c of clients) c.close();
  await fleet.stop();
});

describe('/ip/service api', () => {
  it('ends sessions and refuses connections while disabled, and comes back after a revert', async () => {
    const c = await loggedIn();
    const other = await loggedIn();
    await q(c, ['/system/backup/save', '=name=tod-safe-x', '=dont-encrypt=yes']);
    await q(c, [
      '/system/scheduler/add',
      '=name=tod-safe-x',
      '=interval=60s',
      '=on-event=/system backup load name=tod-safe-x.backup',
    ]);
    const api = rows(await q(c, ['/ip/service/print', '?name=api']))[0];
    const reply = await q(c, ['/ip/service/disable', `=.id=${api?.['.id']}`]);
    expect(reply.at(-1)?.[0]).toBe('!done');
    await c.closedPromise;
    await other.closedPromise;
    expect(await refused()).toBe(true);

    clock.advance(61_000);
    clock.advance(2_500);
    const d = await loggedIn();
    expect(rows(await q(d, ['/ip/service/print', '?name=api']))[0]?.disabled).toBe('false');
    expect(rows(await q(d, ['/system/scheduler/print', '?name=tod-safe-x']))).toHaveLength(0);
  });
});

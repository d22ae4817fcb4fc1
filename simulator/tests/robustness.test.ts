// Malformed input from clients never takes the simulator down: it answers or closes that one connection.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type Fleet, startFleet } from '../src/index';
import { encodeSentence } from '../src/wire/codec';
import { RawClient, rows } from './helpers/raw-client';

let fleet: Fleet;
const port = () => fleet.manifest.devices[0]?.port ?? 0;
beforeAll(async () => {
  fleet = await startFleet({ devices: 1, tls: false });
});
afterAll(async () => {
  await fleet.stop();
});

function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 0x100000000;
  };
}

it('survives 60 connections of seeded random bytes, before and after login', async () => {
  const rnd = prng(42);
  for (let i = 0; i < 60; i++) {
    const c = await RawClient.connect(port());
    if (i % 2) await c.login();
    const junk = Buffer.alloc(16 + Math.floor(rnd() * 400), 0);
    for (let j = 0; j < junk.length; j++) junk[j] = Math.floor(rnd() * 256);
    c.writeBytes(junk);
    c.writeBytes(
      encodeSentence(['=weird', '?#&&&|!!', '/', '.tag=', '=.id=', '?<', '?#99999999999999999999']),
    );
    await new Promise((r) => setTimeout(r, 5));
    c.close();
  }
  const ok = await RawClient.connect(port());
  await ok.login();
  expect(rows(await ok.call(['/system/identity/print'], 'ok'))[0]?.name).toBe('sim-00000');
  ok.close();
});

it('answers odd but well-framed sentences with traps instead of failing', async () => {
  const c = await RawClient.connect(port());
  await c.login();
  const r = await c.call(['/ip/address/print', '?#x'], 'q');
  expect(r.at(-1)?.[0]).toBe('!done');
  const r2 = await c.call(['no-slash'], 'n');
  expect(r2[0]?.[0]).toBe('!trap');
  c.close();
});

it('sends !fatal and closes after too many commands before login', async () => {
  const c = await RawClient.connect(port());
  for (let i = 0; i < 20; i++) c.send(['/system/resource/print', `.tag=${i}`]);
  await c.closedPromise;
  expect(c.sentences.at(-1)).toEqual(['!fatal', 'too many commands before login']);
});

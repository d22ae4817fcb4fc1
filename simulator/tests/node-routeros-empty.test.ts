// RouterOS 7.18+ answers empty prints with !empty; node-routeros 1.6.9 needs the collector's shim for that (PROTOCOL.md §8.1).
import { createRequire } from 'node:module';
import { RouterOSAPI } from 'node-routeros';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type Fleet, startFleet } from '../src/index';

interface ChannelProto {
  processPacket(this: unknown, packet: string[]): void;
}
const require = createRequire(import.meta.url);
const { Channel } = require('node-routeros/dist/Channel') as { Channel: { prototype: ChannelProto } };
const original = Channel.prototype.processPacket;

let fleet: Fleet;
beforeAll(async () => {
  Channel.prototype.processPacket = function (packet: string[]) {
    if (packet[0] === '!empty') return;
    original.call(this, packet);
  };
  fleet = await startFleet({ devices: 2, tls: false, boards: ['hap-ax3', 'rb5009'] });
});
afterAll(async () => {
  Channel.prototype.processPacket = original;
  await fleet.stop();
});

it('resolves an empty print to [] on a 7.18 device through the !empty shim, and on 7.16 without !empty', async () => {
  for (const d of fleet.manifest.devices) {
    const api = new RouterOSAPI({
      host: '127.0.0.1',
      port: d.port,
      user: 'admin',
      password: 'admin',
      timeout: 5,
    });
    await api.connect();
    expect(await api.write('/ip/route/print', ['?gateway=203.0.113.254'])).toEqual([]);
    expect((await api.write('/ip/route/print')).length).toBe(1);
    await api.close();
  }
});

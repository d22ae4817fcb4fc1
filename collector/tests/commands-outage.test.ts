// A safe apply whose revert happens while NATS is down: the collector still polls the device, sees that it
// reverted, keeps the `reverted` event in its outbox, and publishes it once NATS is back (same port and store).
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { type CommandReply, commandSubject } from '@tod/contracts';
import { beforeAll, describe, expect, it } from 'vitest';
import { type NatsHandle, startNats } from '../../scripts/services/nats';
import { ManualClock as SimClock } from '../../simulator/src/device/clock';
import { type Fleet, startFleet } from '../../simulator/src/fleet';
import { onFileEnd } from '../../tests/env/cleanup';
import { ManualClock } from '../src/clock';
import type { Collector } from '../src/collector';
import { ensureEventStream } from '../src/relay/relay';
import { pollRound, readStream, stablePort, startCollectorWithDevice, tempDir, until, uuid } from './harness';

const TENANT = uuid(0xa, 4);
const COLLECTOR = uuid(0xc, 4);
const DEVICE = uuid(0xd, 4);
const OP = uuid(0xe, 4);
const START = Date.UTC(2026, 0, 11, 9, 0, 0);

let nats: NatsHandle | undefined;
let natsOpts: Parameters<typeof startNats>[0];
let nc: NatsConnection;
let fleet: Fleet;
let collector: Collector;
const simClock = new SimClock(START);
const clock = new ManualClock(START);

const round = () => pollRound(collector, { clock, simClock, ms: 60_000 });

beforeAll(async () => {
  natsOpts = { dir: await tempDir('tod-col-cmd-outage-nats-'), port: await stablePort() };
  nats = await startNats(natsOpts);
  onFileEnd(async () => {
    await nats?.stop();
  });
  nc = await connect({
    servers: `nats://127.0.0.1:${natsOpts.port}`,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 200,
  });
  onFileEnd(() => nc.close());
  await ensureEventStream(nc);
  fleet = await startFleet({
    devices: 1,
    boards: ['rb5009'],
    clock: simClock,
    tls: false,
    rebootDurationMs: 2000,
  });
  onFileEnd(() => fleet.stop());
  collector = await startCollectorWithDevice({
    nc,
    ids: { tenantId: TENANT, collectorId: COLLECTOR, deviceId: DEVICE },
    port: fleet.manifest.devices[0]!.port,
    clock,
    stateDirPrefix: 'tod-col-cmd-outage-',
  });
  await round();
});

describe('operation events across a NATS outage', () => {
  it('reports a revert that happened while NATS was down once it is back', async () => {
    const m = await nc.request(
      commandSubject(TENANT, COLLECTOR),
      JSON.stringify({
        op: 'config.apply',
        deviceId: DEVICE,
        operationId: OP,
        mode: 'safe',
        timeoutSeconds: 30,
        commands: ['/system identity set name=during-outage'],
      }),
      { timeout: 20_000 },
    );
    expect(m.json<CommandReply>()).toMatchObject({ ok: true, result: { state: 'pending-confirmation' } });

    await nats!.stop();
    nats = undefined;
    await round(); // the device reverts on its own clock and reboots …
    await round(); // … and the collector sees it: the event waits in the outbox
    expect(collector.outboxDepth).toBeGreaterThan(0);

    nats = await startNats(natsOpts);
    await until(
      () => collector.outboxDepth,
      (n) => n === 0,
      30_000,
      'outbox drained',
    );
    const states = (await readStream(nc, `tod.evt.${TENANT}.${DEVICE}.config-operation`)).map((s) =>
      s.event.kind === 'config-operation' ? s.event.data.state : '',
    );
    expect(states).toEqual(['applying', 'pending-confirmation', 'reverted']);
  });
});

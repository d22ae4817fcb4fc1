import { startNats } from '/work/w-natsauth/scripts/services/nats';
import { natsOperator } from '/work/w-natsauth/scripts/services/nats-auth';
import { connect } from '@nats-io/transport-node';
import { mkdtemp } from 'node:fs/promises';
const nats = await startNats({ dir: await mkdtemp('/tmp/natst-'), auth: await natsOperator() });
const foreign = await natsOperator();
const t0 = Date.now();
try { await connect({ servers: nats.url, ...(await foreign.adminOptions()), timeout: 5000 }); } catch (e) { console.log('tcp', Date.now() - t0, (e as Error).message); }
await nats.stop();

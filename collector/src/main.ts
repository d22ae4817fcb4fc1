// tod-collector: `enroll --url <edge> --token <token>` once, then `run` (as a service).
import { createServer, type Server } from 'node:http';
import { hostname } from 'node:os';
import { connect } from '@nats-io/transport-node';
import pino from 'pino';
import { importExportKey } from './backup/seal';
import { Collector, type CollectorIdentity } from './collector';
import { CollectorConfigError, loadCollectorConfig } from './config';
import { EnrollError, enroll } from './enroll';
import { NatsCredentials } from './nats-credentials';
import { ensureEventStream } from './relay/relay';
import { identityFromState, loadState, NotEnrolledError } from './state';

const VERSION = '0.1.0';

function flag(args: string[], name: string): string | undefined {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
}

async function run(): Promise<void> {
  const config = loadCollectorConfig(process.env);
  const state = await loadState(config.TOD_COLLECTOR_STATE_DIR);
  const logger = pino({
    level: config.LOG_LEVEL,
    base: { service: 'tod-collector', collectorId: state.collectorId, tenantId: state.tenantId },
    redact: { paths: ['password', '*.password', 'credentials', '*.credentials'], censor: '[redacted]' },
  });
  const identity: CollectorIdentity = await identityFromState(state);
  if (!identity.exportKey)
    logger.warn('no export key from the edge yet: configuration exports travel unsealed until one arrives');
  const servers = config.NATS_URL ?? state.natsUrl;
  // With NATS JWT auth: renewed at half-life (before connecting, when it has already expired).
  const credentials = state.nats
    ? new NatsCredentials(state, {
        stateDir: config.TOD_COLLECTOR_STATE_DIR,
        onRenewed: (expiresAt) => logger.info({ expiresAt }, 'NATS credentials renewed'),
        onExportKey: (jwk) => {
          importExportKey(jwk)
            .then((key) => {
              identity.exportKey = key;
              logger.info('export key updated: configuration exports are sealed to it');
            })
            .catch((err: unknown) => logger.warn({ err: (err as Error).message }, 'export key unusable'));
        },
        onError: (err) => logger.warn({ err: err.message }, 'NATS credential renewal failed; retrying'),
      })
    : null;
  credentials?.start();
  const nc = await connect({
    servers,
    ...(credentials?.connectOptions() ?? {}),
    name: `tod-collector-${state.collectorId}`,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 1000,
    waitOnFirstConnect: true,
  });
  await ensureEventStream(nc).catch((err: unknown) =>
    logger.warn({ err: (err as Error).message }, 'could not ensure the event stream; assuming it exists'),
  );
  const collector = new Collector({
    nc,
    identity,
    config,
    logger,
  });
  await collector.start();
  const http: Server = createServer((req, res) => {
    if (req.url === '/metrics') {
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(collector.metrics.render());
    } else if (req.url === '/health') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(
        JSON.stringify({
          status: 'ok',
          version: VERSION,
          devices: collector.deviceCount,
          outbox: collector.outboxDepth,
        }),
      );
    } else res.writeHead(404).end();
  });
  http.listen(config.METRICS_PORT, config.METRICS_HOST, () =>
    logger.info({ port: config.METRICS_PORT, nats: new URL(servers).host }, 'metrics and health listening'),
  );
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping: finishing polls in flight and flushing the outbox');
    http.close();
    await collector.stop(10_000);
    credentials?.stop();
    await nc.drain().catch(() => {});
    logger.info('stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}

async function main(): Promise<void> {
  const [command, ...args] = process.argv.slice(2);
  if (command === 'enroll') {
    const url = flag(args, 'url');
    const token = flag(args, 'token');
    if (!url || !token)
      throw new EnrollError('usage: tod-collector enroll --url <edge URL> --token <enrolment token>');
    const stateDir = flag(args, 'state-dir') ?? loadCollectorConfig(process.env).TOD_COLLECTOR_STATE_DIR;
    const state = await enroll({ edgeUrl: url, token, stateDir, version: VERSION, hostname: hostname() });
    console.log(
      `enrolled: collector ${state.collectorId} of tenant ${state.tenantId}; start it with \`tod-collector run\``,
    );
    return;
  }
  if (command === 'run') return run();
  throw new EnrollError('usage: tod-collector enroll --url <edge URL> --token <token> | tod-collector run');
}

main().catch((err: unknown) => {
  const known =
    err instanceof EnrollError || err instanceof NotEnrolledError || err instanceof CollectorConfigError;
  console.error(`tod-collector: ${known ? err.message : (err as Error).message}`);
  process.exit(known ? 2 : 1);
});

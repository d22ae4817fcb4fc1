// Readiness with NATS JWT auth: the edge logs in with credentials it signs itself, so a signing key NATS does
// not trust shows as not ready instead of failing later at every enrolment and device write.
import { ReadinessResponse } from '@tod/contracts';
import { beforeAll, describe, expect, it } from 'vitest';
import { natsOperator } from '../../scripts/services/nats-auth';
import { freshDatabase, freshNats } from '../../tests/env';
import { type EdgeHandle, startEdge, TEST_SECRETS } from '../../tests/env/edge';

let trusted: EdgeHandle;
let untrusted: EdgeHandle;
let foreignSeed = '';

beforeAll(async () => {
  const [db, nats] = await Promise.all([freshDatabase(), freshNats({ auth: true })]);
  const base = { DATABASE_URL: db.appUrl, NATS_WS_URL: nats.wsUrl, ...TEST_SECRETS };
  const foreign = await natsOperator();
  foreignSeed = foreign.edgeVars.NATS_ACCOUNT_SIGNING_SEED;
  [trusted, untrusted] = await Promise.all([
    startEdge({ ...base, ...nats.auth!.edgeVars }),
    startEdge({ ...base, ...foreign.edgeVars }),
  ]);
});

describe('readiness with NATS JWT auth', () => {
  it('is ready when NATS accepts the credentials the edge signs', async () => {
    const res = await trusted.fetch('/health/ready');
    const body = ReadinessResponse.parse(await res.json());
    expect(body.checks.nats, JSON.stringify(body.checks.nats)).toMatchObject({ ok: true });
    expect(res.status).toBe(200);
  });

  it('is not ready when NATS does not trust the signing key, without echoing it', async () => {
    const res = await untrusted.fetch('/health/ready');
    expect(res.status).toBe(503);
    const text = await res.text();
    const body = ReadinessResponse.parse(JSON.parse(text));
    // NATS refuses the login and closes the websocket (whether its -ERR or the close is seen first varies).
    expect(body.checks.nats.ok).toBe(false);
    expect(text).not.toContain(foreignSeed);
  });
});

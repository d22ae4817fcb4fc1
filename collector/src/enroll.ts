// `tod-collector enroll`: makes the collector's key pair, registers the public half with the edge using a
// one-time token, and keeps the identity it gets back in the state directory.

import { createUser } from '@nats-io/nkeys';
import { CREDENTIALS_JWE, EnrollResponse } from '@tod/contracts';
import { exportJWK, generateKeyPair } from 'jose';
import { type CollectorState, saveState } from './state';

export class EnrollError extends Error {
  readonly code = 'enroll_failed';
}

export async function enroll(opts: {
  edgeUrl: string;
  token: string;
  stateDir: string;
  version: string;
  hostname?: string;
  fetchImpl?: typeof fetch;
}): Promise<CollectorState> {
  const { publicKey, privateKey } = await generateKeyPair(CREDENTIALS_JWE.alg, {
    crv: CREDENTIALS_JWE.crv,
    extractable: true,
  });
  const publicKeyJwk = await exportJWK(publicKey);
  // The NATS identity: the edge signs a JWT for the public key; the seed stays in the state directory.
  const natsKey = createUser();
  const privateKeyJwk = await exportJWK(privateKey);
  const url = new URL('/api/collectors/enroll', opts.edgeUrl);
  let res: Response;
  try {
    res = await (opts.fetchImpl ?? fetch)(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        token: opts.token,
        publicKey: { kty: publicKeyJwk.kty, crv: publicKeyJwk.crv, x: publicKeyJwk.x, y: publicKeyJwk.y },
        version: opts.version,
        natsPublicKey: natsKey.getPublicKey(),
        ...(opts.hostname ? { hostname: opts.hostname } : {}),
      }),
      signal: AbortSignal.timeout(15_000),
    });
  } catch (err) {
    throw new EnrollError(`cannot reach ${url.origin}: ${(err as Error).message}`);
  }
  const body: unknown = await res.json().catch(() => undefined);
  if (!res.ok) {
    const message =
      (body as { error?: { message?: string } } | undefined)?.error?.message ?? `HTTP ${res.status}`;
    throw new EnrollError(`the edge refused the enrolment: ${message}`);
  }
  const parsed = EnrollResponse.safeParse(body);
  if (!parsed.success) throw new EnrollError('the edge answered the enrolment with an unexpected body');
  const state: CollectorState = {
    v: 1,
    tenantId: parsed.data.tenantId,
    collectorId: parsed.data.collectorId,
    natsUrl: parsed.data.natsUrl,
    edgeUrl: url.origin,
    privateKeyJwk: privateKeyJwk as Record<string, unknown>,
    publicKeyJwk: publicKeyJwk as Record<string, unknown>,
    enrolledAt: new Date().toISOString(),
    ...(parsed.data.exportKey ? { exportKeyJwk: parsed.data.exportKey } : {}),
    ...(parsed.data.natsJwt
      ? { nats: { jwt: parsed.data.natsJwt, seed: new TextDecoder().decode(natsKey.getSeed()) } }
      : {}),
  };
  await saveState(opts.stateDir, state);
  return state;
}

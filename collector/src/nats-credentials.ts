// The collector's NATS credentials when NATS runs with JWT auth: the user JWT the edge issued (it expires) and
// the nkey that proves it is ours. The JWT is renewed through the edge at half its life, and the connection's
// authenticator always presents the newest one, so a reconnect after expiry logs in again. A revoked collector
// cannot renew: its NATS access ends with its last JWT.
import { fromSeed } from '@nats-io/nkeys';
import { type Authenticator, jwtAuthenticator } from '@nats-io/transport-node';
import {
  type CollectorPublicJwk,
  collectorInboxPrefix,
  NatsCredentialsRenewResponse,
  natsRenewalChallenge,
} from '@tod/contracts';
import { type CollectorState, saveState } from './state';

export class RenewError extends Error {
  readonly code = 'renew_failed';
}

/** `exp` and `iat` of a JWT (seconds), read without verifying: the edge and nats-server verify. */
export function jwtTimes(jwt: string): { iat: number; exp?: number } {
  const payload = jwt.split('.')[1] ?? '';
  const json = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as {
    iat?: number;
    exp?: number;
  };
  return { iat: json.iat ?? 0, ...(json.exp ? { exp: json.exp } : {}) };
}

/** When to renew: at half the JWT's life; never for a JWT without expiry. In ms since the epoch. */
export function renewAt(jwt: string): number | null {
  const { iat, exp } = jwtTimes(jwt);
  if (!exp) return null;
  return (iat + (exp - iat) / 2) * 1000;
}

export class NatsCredentials {
  private state: CollectorState & { nats: NonNullable<CollectorState['nats']> };
  private timer: ReturnType<typeof setTimeout> | undefined;
  private stopped = false;

  constructor(
    state: CollectorState,
    private readonly opts: {
      stateDir: string;
      fetchImpl?: typeof fetch;
      onRenewed?: (expiresAt: Date | null) => void;
      /** The edge answered with an export key other than the one in the state (first one, or rotated). */
      onExportKey?: (jwk: CollectorPublicJwk) => void;
      onError?: (err: Error) => void;
      /** Retry delay after a failed renewal. */
      retryMs?: number;
    },
  ) {
    if (!state.nats) throw new RenewError('this collector was enrolled without NATS credentials');
    this.state = state as CollectorState & { nats: NonNullable<CollectorState['nats']> };
  }

  get jwt(): string {
    return this.state.nats.jwt;
  }

  /** nats.js options: an authenticator that reads the current JWT on every (re)connect, and our inbox. */
  connectOptions(): { authenticator: Authenticator; inboxPrefix: string } {
    const seed = new TextEncoder().encode(this.state.nats.seed);
    return {
      authenticator: jwtAuthenticator(() => this.state.nats.jwt, seed),
      inboxPrefix: collectorInboxPrefix(this.state.collectorId),
    };
  }

  /** Asks the edge for a fresh JWT and keeps it (state file included). */
  async renew(): Promise<void> {
    const signedAt = new Date().toISOString();
    const key = fromSeed(new TextEncoder().encode(this.state.nats.seed));
    const signature = Buffer.from(
      key.sign(new TextEncoder().encode(natsRenewalChallenge(key.getPublicKey(), signedAt))),
    ).toString('base64url');
    const url = new URL('/api/collectors/nats-credentials', this.state.edgeUrl);
    let res: Response;
    try {
      res = await (this.opts.fetchImpl ?? fetch)(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ jwt: this.state.nats.jwt, signedAt, signature }),
        signal: AbortSignal.timeout(15_000),
      });
    } catch (err) {
      throw new RenewError(`cannot reach ${url.origin}: ${(err as Error).message}`);
    }
    const body: unknown = await res.json().catch(() => undefined);
    if (!res.ok) {
      const message =
        (body as { error?: { message?: string } } | undefined)?.error?.message ?? `HTTP ${res.status}`;
      throw new RenewError(`the edge refused to renew the NATS credentials: ${message}`);
    }
    const parsed = NatsCredentialsRenewResponse.safeParse(body);
    if (!parsed.success) throw new RenewError('the edge answered the renewal with an unexpected body');
    const exportKey = parsed.data.exportKey;
    const newExportKey =
      exportKey && JSON.stringify(exportKey) !== JSON.stringify(this.state.exportKeyJwk)
        ? exportKey
        : undefined;
    this.state = {
      ...this.state,
      nats: { ...this.state.nats, jwt: parsed.data.natsJwt },
      ...(exportKey ? { exportKeyJwk: exportKey } : {}),
    };
    await saveState(this.opts.stateDir, this.state);
    if (newExportKey) this.opts.onExportKey?.(newExportKey);
    const { exp } = jwtTimes(parsed.data.natsJwt);
    this.opts.onRenewed?.(exp ? new Date(exp * 1000) : null);
  }

  /** Renews at half-life from now on (right away when that has passed), retrying failures. */
  start(): void {
    this.stopped = false;
    this.schedule(renewAt(this.jwt));
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private schedule(at: number | null): void {
    if (this.stopped || at === null) return;
    // setTimeout's limit is ~24.8 days; a longer wait is taken in steps.
    const delay = Math.min(Math.max(0, at - Date.now()), 2 ** 31 - 1);
    this.timer = setTimeout(() => {
      if (Date.now() < at) return this.schedule(at);
      this.renew().then(
        () => this.schedule(renewAt(this.jwt)),
        (err: Error) => {
          this.opts.onError?.(err);
          this.schedule(Date.now() + (this.opts.retryMs ?? 60_000));
        },
      );
    }, delay);
    this.timer.unref?.();
  }
}

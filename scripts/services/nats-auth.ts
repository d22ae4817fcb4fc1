// NATS decentralized JWT auth (operator mode) for `npm start` and the tests: an operator, a system account and
// the TOD account, whose signing key the edge holds (NATS_ACCOUNT_SIGNING_SEED) to issue user JWTs. nats-server
// 2.9 trusts the operator and loads both account JWTs from its config (resolver MEMORY, resolver_preload).
// The seeds are what must be kept between restarts (JetStream data lives under the account's public key).
import { encodeAccount, encodeOperator } from '@nats-io/jwt';
import { createAccount, createOperator, createUser, fromSeed } from '@nats-io/nkeys';
import type { NatsPermissions } from '@tod/contracts';
import {
  mintEdgeCreds,
  mintUserJwt,
  type NatsAccountSigner,
  type NatsUserCreds,
  natsAuthOptions,
} from '../../edge/src/services/nats-auth';

export interface NatsOperatorSeeds {
  operator: string;
  systemAccount: string;
  account: string;
  accountSigning: string;
}

export interface NatsOperator {
  seeds: NatsOperatorSeeds;
  signer: NatsAccountSigner;
  /** What the edge needs (as env vars) to issue credentials. */
  edgeVars: { NATS_ACCOUNT_PUBLIC_KEY: string; NATS_ACCOUNT_SIGNING_SEED: string };
  /** nats-server config lines (operator, system account, preloaded account JWTs). */
  serverConfig: string[];
  /** Credentials of a user of the TOD account: unrestricted without permissions (admin tooling, tests). */
  mintUser(opts?: { name?: string; permissions?: NatsPermissions }): Promise<NatsUserCreds>;
  /** nats.js connect options for an unrestricted user of the TOD account. */
  adminOptions(): Promise<ReturnType<typeof natsAuthOptions>>;
}

const text = (b: Uint8Array) => new TextDecoder().decode(b);

export function newNatsOperatorSeeds(): NatsOperatorSeeds {
  return {
    operator: text(createOperator().getSeed()),
    systemAccount: text(createAccount().getSeed()),
    account: text(createAccount().getSeed()),
    accountSigning: text(createAccount().getSeed()),
  };
}

const seedKey = (seed: string) => fromSeed(new TextEncoder().encode(seed));

export async function natsOperator(seeds: NatsOperatorSeeds = newNatsOperatorSeeds()): Promise<NatsOperator> {
  const operator = seedKey(seeds.operator);
  const sys = seedKey(seeds.systemAccount);
  const account = seedKey(seeds.account);
  const signing = seedKey(seeds.accountSigning);
  const operatorJwt = await encodeOperator('tod', operator, { system_account: sys.getPublicKey() });
  const sysJwt = await encodeAccount('SYS', sys.getPublicKey(), {}, { signer: operator });
  const accountJwt = await encodeAccount(
    'TOD',
    account.getPublicKey(),
    {
      signing_keys: [signing.getPublicKey()],
      limits: {
        subs: -1,
        data: -1,
        payload: -1,
        imports: -1,
        exports: -1,
        wildcards: true,
        conn: -1,
        leaf: -1,
        // JetStream is enabled for an account by giving it limits.
        mem_storage: -1,
        disk_storage: -1,
        streams: -1,
        consumer: -1,
      },
    },
    { signer: operator },
  );
  const signer: NatsAccountSigner = {
    accountPublicKey: account.getPublicKey(),
    signingSeed: seeds.accountSigning,
  };
  return {
    seeds,
    signer,
    edgeVars: {
      NATS_ACCOUNT_PUBLIC_KEY: signer.accountPublicKey,
      NATS_ACCOUNT_SIGNING_SEED: signer.signingSeed,
    },
    serverConfig: [
      `operator: ${JSON.stringify(operatorJwt)}`,
      `system_account: ${sys.getPublicKey()}`,
      'resolver: MEMORY',
      'resolver_preload: {',
      `  ${sys.getPublicKey()}: ${JSON.stringify(sysJwt)}`,
      `  ${account.getPublicKey()}: ${JSON.stringify(accountJwt)}`,
      '}',
    ],
    async mintUser(opts = {}) {
      if (!opts.permissions) return mintEdgeCreds(signer, opts.name ?? 'tod-admin', 24 * 3600);
      const user = createUser();
      const jwt = await mintUserJwt(signer, {
        name: opts.name ?? 'tod-user',
        userPublicKey: user.getPublicKey(),
        permissions: opts.permissions,
      });
      return { jwt, seed: text(user.getSeed()) };
    },
    async adminOptions() {
      return natsAuthOptions(await mintEdgeCreds(signer, 'tod-admin', 24 * 3600));
    },
  };
}

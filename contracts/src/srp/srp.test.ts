import { describe, expect, it } from 'vitest';
import {
  clientPremaster,
  clientPublic,
  computeK,
  computeLoginProof,
  computeU,
  computeVerifier,
  computeXClassic,
  createEnrolment,
  createServerEphemeral,
  deriveAuk,
  formatSecretKey,
  fromHex,
  generateSecretKey,
  PBKDF2_ITERATIONS,
  parseSecretKey,
  RFC5054_1024_SHA1,
  RFC5054_2048_SHA256,
  serverPremaster,
  serverPublic,
  startLogin,
  verifyClientProof,
  verifyServerProof,
} from './index';

// RFC 5054 Appendix B (1024-bit group, SHA-1).
const V = {
  I: 'alice',
  P: 'password123',
  s: 'beb25379d1a8581eb5a727673a2441ee',
  k: '7556aa045aef2cdd07abaf0f665c3e818913186f',
  x: '94b7555aabe9127cc58ccf4993db6cf84d16c124',
  v:
    '7e273de8696ffc4f4e337d05b4b375beb0dde1569e8fa00a9886d8129bada1f1822223ca1a605b530e379ba4729fdc59' +
    'f105b4787e5186f5c671085a1447b52a48cf1970b4fb6f8400bbf4cebfbb168152e08ab5ea53d15c1aff87b2b9da6e04' +
    'e058ad51cc72bfc9033b564e26480d78e955a5e29e7ab245db2be315e2099afb',
  a: '60975527035cf2ad1989806f0407210bc81edc04e2762a56afd529ddda2d4393',
  b: 'e487cb59d31ac550471e81f00f6928e01dda08e974a004f49e61f5d105284d20',
  A:
    '61d5e490f6f1b79547b0704c436f523dd0e560f0c64115bb72557ec44352e8903211c04692272d8b2d1a5358a2cf1b6e' +
    '0bfcf99f921530ec8e39356179eae45e42ba92aeaced825171e1e8b9af6d9c03e1327f44be087ef06530e69f66615261' +
    'eef54073ca11cf5858f0edfdfe15efeab349ef5d76988a3672fac47b0769447b',
  B:
    'bd0c61512c692c0cb6d041fa01bb152d4916a1e77af46ae105393011baf38964dc46a0670dd125b95a981652236f99d9' +
    'b681cbf87837ec996c6da04453728610d0c6ddb58b318885d7d82c7f8deb75ce7bd4fbaa37089e6f9c6059f388838e7a' +
    '00030b331eb76840910440b1b27aaeaeeb4012b7d7665238a8e3fb004b117b58',
  u: 'ce38b9593487da98554ed47d70a7ae5f462ef019',
  S:
    'b0dc82babcf30674ae450c0287745e7990a3381f63b387aaf271a10d233861e359b48220f7c4693c9ae12b0a6f67809f' +
    '0876e2d013800d6c41bb59b6d5979b5c00a172b4a2a5903a0bdcaf8a709585eb2afafa8f3499b200210dcc1f10eb3394' +
    '3cd67fc88a2f39a4be5bec4ec0a3212dc346d7e474b29ede8a469ffeca686e5a',
};
const big = (h: string) => BigInt('0x' + h);
const G = RFC5054_1024_SHA1;

describe('SRP-6a arithmetic against RFC 5054 Appendix B', () => {
  it('computes k, x and the verifier', async () => {
    const k = await computeK(G);
    expect(k.toString(16)).toBe(V.k);
    const x = await computeXClassic(G, V.I, V.P, fromHex(V.s));
    expect(x.toString(16)).toBe(V.x);
    expect(computeVerifier(G, x).toString(16)).toBe(V.v);
  });

  it('computes A, B and u', async () => {
    expect(clientPublic(G, big(V.a)).toString(16)).toBe(V.A);
    const k = await computeK(G);
    expect(serverPublic(G, k, big(V.v), big(V.b)).toString(16)).toBe(V.B);
    expect((await computeU(G, big(V.A), big(V.B))).toString(16)).toBe(V.u);
  });

  it('derives the same premaster secret on both sides', async () => {
    const k = await computeK(G);
    const S1 = clientPremaster(G, k, big(V.x), big(V.a), big(V.u), big(V.B));
    const S2 = serverPremaster(G, big(V.v), big(V.u), big(V.b), big(V.A));
    expect(S1.toString(16)).toBe(V.S);
    expect(S2.toString(16)).toBe(V.S);
  });

  it('uses k = H(N | PAD(g)) for the 2048-bit SHA-256 product group', async () => {
    // Mozilla's published value for the RFC 5054 2048-bit group with SHA-256.
    expect((await computeK(RFC5054_2048_SHA256)).toString()).toBe(
      '2590038599070950300691544216303772122846747035652616593381637186118123578112',
    );
  });
});

describe('Secret Key', () => {
  it('formats as A3-XXXXXX-… and parses back to the same 128 bits', () => {
    const key = generateSecretKey();
    const text = formatSecretKey(key);
    expect(text).toMatch(/^A3-[0-9A-Z]{6}-[0-9A-Z]{6}-[0-9A-Z]{5}-[0-9A-Z]{5}-[0-9A-Z]{5}-[0-9A-Z]{5}$/);
    const back = parseSecretKey(text.toLowerCase());
    expect(back.id).toBe(key.id);
    expect(Array.from(back.bits)).toEqual(Array.from(key.bits));
  });

  it('refuses malformed keys', () => {
    expect(() => parseSecretKey('A3-123')).toThrow();
    expect(() => parseSecretKey('B3-ABCDEF-ABCDEF-ABCDE-ABCDE-ABCDE-ABCDE')).toThrow();
  });
});

describe('two-secret key derivation', () => {
  const secretKey = generateSecretKey();
  const salt = fromHex('00'.repeat(32));

  it('defaults to 650,000 PBKDF2 iterations', () => {
    expect(PBKDF2_ITERATIONS).toBe(650_000);
  });

  it('depends on both the password and the Secret Key', async () => {
    const base = { email: 'a@example.com', password: 'correct horse', secretKey, salt, iterations: 1000 };
    const auk = await deriveAuk(base);
    expect(auk).toHaveLength(32);
    expect(await deriveAuk(base)).toEqual(auk);
    expect(await deriveAuk({ ...base, password: 'correct horsf' })).not.toEqual(auk);
    expect(await deriveAuk({ ...base, secretKey: generateSecretKey() })).not.toEqual(auk);
    expect(await deriveAuk({ ...base, iterations: 1001 })).not.toEqual(auk);
  });
});

describe('full SRP-6a login with 2SKD (2048-bit, SHA-256)', () => {
  const creds = {
    email: 'Ops@Example.com',
    password: 'a long passphrase',
    secretKey: generateSecretKey(),
    iterations: 1000,
  };

  it('authenticates both sides with the right password and Secret Key', async () => {
    const enrol = await createEnrolment(creds);
    const server = await createServerEphemeral(enrol.verifier);
    const start = startLogin();
    const proof = await computeLoginProof(creds, start, { salt: enrol.salt, B: server.B });
    const M2 = await verifyClientProof({
      email: 'ops@example.com',
      ...enrol,
      ...server,
      A: start.A,
      M1: proof.M1,
    });
    expect(M2).not.toBeNull();
    expect(verifyServerProof(proof, M2!)).toBe(true);
  });

  it('rejects a wrong password, a wrong Secret Key and a bogus A', async () => {
    const enrol = await createEnrolment(creds);
    const server = await createServerEphemeral(enrol.verifier);
    for (const bad of [
      { ...creds, password: 'wrong' },
      { ...creds, secretKey: generateSecretKey() },
    ]) {
      const start = startLogin();
      const proof = await computeLoginProof(bad, start, { salt: enrol.salt, B: server.B });
      expect(
        await verifyClientProof({ email: creds.email, ...enrol, ...server, A: start.A, M1: proof.M1 }),
      ).toBeNull();
    }
    const N = RFC5054_2048_SHA256.N.toString(16);
    for (const A of ['0', N, 'zz']) {
      expect(await verifyClientProof({ email: creds.email, ...enrol, ...server, A, M1: '00' })).toBeNull();
    }
  });
});

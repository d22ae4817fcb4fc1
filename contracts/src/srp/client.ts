// The browser side of TOD login: enrolment (salt + verifier from password and Secret Key) and the two-step
// SRP-6a login. web/ and the tests use exactly this; the password and Secret Key never leave it.
import { constantTimeEqual, fromHex, randomBytes, toHex } from './bytes';
import { PRODUCT_GROUP, type SrpGroup } from './groups';
import { deriveSrpPrivate, type SecretKey } from './kdf';
import {
  clientPremaster,
  clientProof,
  clientPublic,
  computeK,
  computeU,
  computeVerifier,
  isValidPublic,
  randomPrivate,
  serverProof,
  sessionKey,
} from './math';

export interface Enrolment {
  /** hex, 32 bytes */
  salt: string;
  /** hex, g^x mod N */
  verifier: string;
  secretKeyId: string;
}

export interface Credentials {
  email: string;
  password: string;
  secretKey: SecretKey;
  iterations?: number;
}

/** What the browser sends to enrol or re-enrol (password change, Secret Key rotation). */
export async function createEnrolment(
  creds: Credentials,
  group: SrpGroup = PRODUCT_GROUP,
): Promise<Enrolment> {
  const salt = randomBytes(32);
  const x = await deriveSrpPrivate(group, { ...creds, salt });
  return {
    salt: toHex(salt),
    verifier: computeVerifier(group, x).toString(16),
    secretKeyId: creds.secretKey.id,
  };
}

export interface LoginStart {
  a: bigint;
  /** hex, sent with the proof */
  A: string;
}

export function startLogin(group: SrpGroup = PRODUCT_GROUP): LoginStart {
  const a = randomPrivate(group);
  return { a, A: clientPublic(group, a).toString(16) };
}

export interface LoginProof {
  /** hex, sent to /api/auth/srp/verify */
  M1: string;
  /** hex: what the server must answer with; checked by verifyServerProof */
  expectedM2: string;
}

/** Computes the client proof from the server's salt and B (the answer of /api/auth/srp/init). */
export async function computeLoginProof(
  creds: Credentials,
  start: LoginStart,
  server: { salt: string; B: string },
  group: SrpGroup = PRODUCT_GROUP,
): Promise<LoginProof> {
  const B = BigInt('0x' + server.B);
  if (!isValidPublic(group, B)) throw new Error('server sent an invalid B');
  const salt = fromHex(server.salt);
  const A = BigInt('0x' + start.A);
  const email = creds.email.trim().toLowerCase();
  const [x, k, u] = await Promise.all([
    deriveSrpPrivate(group, { ...creds, salt }),
    computeK(group),
    computeU(group, A, B),
  ]);
  if (u === 0n) throw new Error('invalid scrambling parameter');
  const S = clientPremaster(group, k, x, start.a, u, B);
  const K = await sessionKey(group, S);
  const M1 = await clientProof(group, email, salt, A, B, K);
  const M2 = await serverProof(group, A, M1, K);
  return { M1: toHex(M1), expectedM2: toHex(M2) };
}

/** True when the server proved it knows the verifier (mutual authentication). */
export function verifyServerProof(proof: LoginProof, M2: string): boolean {
  try {
    return constantTimeEqual(fromHex(proof.expectedM2), fromHex(M2));
  } catch {
    return false;
  }
}

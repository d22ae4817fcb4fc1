// The server side of the SRP-6a handshake as pure functions: the edge stores b between init and verify
// and calls these. No I/O here.
import { constantTimeEqual, fromHex, toHex } from './bytes';
import { PRODUCT_GROUP, type SrpGroup } from './groups';
import {
  clientProof,
  computeK,
  computeU,
  isValidPublic,
  randomPrivate,
  serverPremaster,
  serverProof,
  serverPublic,
  sessionKey,
} from './math';

export interface ServerEphemeral {
  /** hex; secret, kept server-side until the proof arrives */
  b: string;
  /** hex; sent to the client */
  B: string;
}

export async function createServerEphemeral(
  verifierHex: string,
  group: SrpGroup = PRODUCT_GROUP,
): Promise<ServerEphemeral> {
  const v = BigInt('0x' + verifierHex);
  const k = await computeK(group);
  for (;;) {
    const b = randomPrivate(group);
    const B = serverPublic(group, k, v, b);
    if (isValidPublic(group, B)) return { b: b.toString(16), B: B.toString(16) };
  }
}

export interface ServerVerifyInput {
  email: string;
  salt: string;
  verifier: string;
  b: string;
  B: string;
  A: string;
  M1: string;
}

/** Checks the client's proof; returns M2 (hex) when it is right, null otherwise. Never throws on bad input. */
export async function verifyClientProof(
  input: ServerVerifyInput,
  group: SrpGroup = PRODUCT_GROUP,
): Promise<string | null> {
  let A: bigint;
  let M1: Uint8Array;
  try {
    A = BigInt('0x' + input.A);
    M1 = fromHex(input.M1);
  } catch {
    return null;
  }
  if (!isValidPublic(group, A)) return null;
  const B = BigInt('0x' + input.B);
  const u = await computeU(group, A, B);
  if (u === 0n) return null;
  const v = BigInt('0x' + input.verifier);
  const S = serverPremaster(group, v, u, BigInt('0x' + input.b), A);
  const K = await sessionKey(group, S);
  const salt = fromHex(input.salt);
  const expected = await clientProof(group, input.email.trim().toLowerCase(), salt, A, B, K);
  if (!constantTimeEqual(expected, M1)) return null;
  return toHex(await serverProof(group, A, M1, K));
}

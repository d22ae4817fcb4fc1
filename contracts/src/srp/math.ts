// SRP-6a arithmetic (RFC 5054 / RFC 2945), generic over the group and hash so the RFC 5054 Appendix B
// vectors (1024-bit, SHA-1) test the same code the product runs with the 2048-bit group and SHA-256.
// Client and server halves both live here; the edge and web import them from one place.
import { bigIntToBytes, buf, bytesToBigInt, concatBytes, utf8, xorBytes } from './bytes';
import type { SrpGroup } from './groups';

export async function hash(group: SrpGroup, ...parts: Uint8Array[]): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest(group.hash, buf(concatBytes(...parts))));
}

async function hashInt(group: SrpGroup, ...parts: Uint8Array[]): Promise<bigint> {
  return bytesToBigInt(await hash(group, ...parts));
}

export function modPow(base: bigint, exp: bigint, mod: bigint): bigint {
  let result = 1n;
  let b = ((base % mod) + mod) % mod;
  let e = exp;
  while (e > 0n) {
    if (e & 1n) result = (result * b) % mod;
    b = (b * b) % mod;
    e >>= 1n;
  }
  return result;
}

export function pad(group: SrpGroup, n: bigint): Uint8Array {
  return bigIntToBytes(n, group.byteLength);
}

/** k = H(N | PAD(g)) */
export function computeK(group: SrpGroup): Promise<bigint> {
  return hashInt(group, bigIntToBytes(group.N), pad(group, group.g));
}

/** u = H(PAD(A) | PAD(B)) */
export function computeU(group: SrpGroup, A: bigint, B: bigint): Promise<bigint> {
  return hashInt(group, pad(group, A), pad(group, B));
}

/** RFC 5054's x = H(s | H(I | ":" | P)), used for the test vectors. TOD derives x with 2SKD instead
 * (see kdf.ts: x = H(s | AUK)). */
export async function computeXClassic(
  group: SrpGroup,
  identity: string,
  password: string,
  salt: Uint8Array,
): Promise<bigint> {
  const inner = await hash(group, utf8(`${identity}:${password}`));
  return hashInt(group, salt, inner);
}

/** v = g^x mod N */
export function computeVerifier(group: SrpGroup, x: bigint): bigint {
  return modPow(group.g, x, group.N);
}

/** A = g^a mod N */
export function clientPublic(group: SrpGroup, a: bigint): bigint {
  return modPow(group.g, a, group.N);
}

/** B = (k*v + g^b) mod N */
export function serverPublic(group: SrpGroup, k: bigint, v: bigint, b: bigint): bigint {
  return (k * v + modPow(group.g, b, group.N)) % group.N;
}

/** Client premaster secret S = (B - k*g^x) ^ (a + u*x) mod N */
export function clientPremaster(
  group: SrpGroup,
  k: bigint,
  x: bigint,
  a: bigint,
  u: bigint,
  B: bigint,
): bigint {
  const N = group.N;
  const base = (((B - k * modPow(group.g, x, N)) % N) + N) % N;
  return modPow(base, a + u * x, N);
}

/** Server premaster secret S = (A * v^u) ^ b mod N */
export function serverPremaster(group: SrpGroup, v: bigint, u: bigint, b: bigint, A: bigint): bigint {
  const N = group.N;
  return modPow((A * modPow(v, u, N)) % N, b, N);
}

/** A public value is usable only when it is not 0 mod N (the SRP-6a safety check). */
export function isValidPublic(group: SrpGroup, value: bigint): boolean {
  return value > 0n && value % group.N !== 0n && value < group.N;
}

/** K = H(PAD(S)) */
export function sessionKey(group: SrpGroup, S: bigint): Promise<Uint8Array> {
  return hash(group, pad(group, S));
}

/** M1 = H(H(N) xor H(PAD(g)) | H(I) | s | PAD(A) | PAD(B) | K) */
export async function clientProof(
  group: SrpGroup,
  identity: string,
  salt: Uint8Array,
  A: bigint,
  B: bigint,
  K: Uint8Array,
): Promise<Uint8Array> {
  const hN = await hash(group, bigIntToBytes(group.N));
  const hg = await hash(group, pad(group, group.g));
  const hI = await hash(group, utf8(identity));
  return hash(group, xorBytes(hN, hg), hI, salt, pad(group, A), pad(group, B), K);
}

/** M2 = H(PAD(A) | M1 | K) */
export function serverProof(group: SrpGroup, A: bigint, M1: Uint8Array, K: Uint8Array): Promise<Uint8Array> {
  return hash(group, pad(group, A), M1, K);
}

/** A random private ephemeral (a or b) of 256 bits, reduced so it is never 0. */
export function randomPrivate(group: SrpGroup): bigint {
  const bytes = new Uint8Array(32);
  crypto.getRandomValues(bytes);
  const n = bytesToBigInt(bytes) % group.N;
  return n === 0n ? 1n : n;
}

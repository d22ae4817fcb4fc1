// Two-secret key derivation (2SKD): the SRP private value x depends on the password AND a 128-bit Secret
// Key that is generated in the browser and never sent, so a stolen verifier cannot be brute-forced from
// the password alone.
//   pw  = PBKDF2-SHA256(NFKD(password), HKDF(salt, email), iterations = 650,000)    32 bytes
//   sk  = HKDF-SHA256(ikm = Secret Key bits, salt = Secret Key id, info = version)  32 bytes
//   AUK = pw XOR sk;   x = H(salt | AUK)
import { buf, bytesToBigInt, concatBytes, randomBytes, utf8, xorBytes } from './bytes';
import type { SrpGroup } from './groups';
import { hash } from './math';

export const PBKDF2_ITERATIONS = 650_000;
export const SECRET_KEY_VERSION = 'A3';
const KDF_INFO = 'TOD-2SKD-v1';

// Crockford base32: no I, L, O, U, so a Secret Key copied from paper is unambiguous.
const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const BODY_GROUPS = [6, 5, 5, 5, 5];

export interface SecretKey {
  /** Not secret: identifies which Secret Key an account uses (stored by the server). */
  id: string;
  /** The 128 secret bits. */
  bits: Uint8Array;
}

function encodeBase32(bytes: Uint8Array, chars: number): string {
  let acc = bytesToBigInt(bytes) << BigInt(chars * 5 - bytes.length * 8);
  let out = '';
  for (let i = 0; i < chars; i++) {
    out = ALPHABET[Number(acc & 31n)] + out;
    acc >>= 5n;
  }
  return out;
}

function decodeBase32(text: string, byteLength: number): Uint8Array {
  let acc = 0n;
  for (const ch of text) {
    const v = ALPHABET.indexOf(ch);
    if (v < 0) throw new Error('invalid Secret Key character');
    acc = (acc << 5n) | BigInt(v);
  }
  const extra = BigInt(text.length * 5 - byteLength * 8);
  if (acc & ((1n << extra) - 1n)) throw new Error('invalid Secret Key padding');
  acc >>= extra;
  const out = new Uint8Array(byteLength);
  for (let i = byteLength - 1; i >= 0; i--) {
    out[i] = Number(acc & 0xffn);
    acc >>= 8n;
  }
  return out;
}

/** A new Secret Key: 128 random bits and a 6-character id. Generated in the browser only. */
export function generateSecretKey(): SecretKey {
  const id = encodeBase32(randomBytes(4), 6);
  return { id, bits: randomBytes(16) };
}

/** `A3-<id>-XXXXXX-XXXXX-XXXXX-XXXXX-XXXXX` (what the Emergency Kit shows). */
export function formatSecretKey(key: SecretKey): string {
  const body = encodeBase32(key.bits, 26);
  const groups: string[] = [];
  let off = 0;
  for (const n of BODY_GROUPS) {
    groups.push(body.slice(off, off + n));
    off += n;
  }
  return [SECRET_KEY_VERSION, key.id, ...groups].join('-');
}

export function parseSecretKey(text: string): SecretKey {
  const clean = text.toUpperCase().replace(/[\s-]/g, '');
  if (!clean.startsWith(SECRET_KEY_VERSION) || clean.length !== 2 + 6 + 26) {
    throw new Error('not a Secret Key (expected A3-XXXXXX-…)');
  }
  const id = clean.slice(2, 8);
  for (const ch of id) if (!ALPHABET.includes(ch)) throw new Error('invalid Secret Key character');
  return { id, bits: decodeBase32(clean.slice(8), 16) };
}

async function hkdf(ikm: Uint8Array, salt: Uint8Array, info: string, length = 32): Promise<Uint8Array> {
  const key = await crypto.subtle.importKey('raw', buf(ikm), 'HKDF', false, ['deriveBits']);
  const bits = await crypto.subtle.deriveBits(
    { name: 'HKDF', hash: 'SHA-256', salt: buf(salt), info: buf(utf8(info)) },
    key,
    length * 8,
  );
  return new Uint8Array(bits);
}

async function pbkdf2(password: string, salt: Uint8Array, iterations: number): Promise<Uint8Array> {
  const key = await crypto.subtle.importKey('raw', buf(utf8(password)), 'PBKDF2', false, ['deriveBits']);
  const bits = await crypto.subtle.deriveBits(
    { name: 'PBKDF2', hash: 'SHA-256', salt: buf(salt), iterations },
    key,
    256,
  );
  return new Uint8Array(bits);
}

export interface DeriveOptions {
  email: string;
  password: string;
  secretKey: SecretKey;
  salt: Uint8Array;
  /** 650,000 unless a test is not about KDF strength. */
  iterations?: number;
}

/** The Account Unlock Key: PBKDF2(password) XOR HKDF(Secret Key). */
export async function deriveAuk(opts: DeriveOptions): Promise<Uint8Array> {
  const email = opts.email.trim().toLowerCase();
  const pbkdf2Salt = await hkdf(opts.salt, utf8(email), `${KDF_INFO} password`);
  const [pw, sk] = await Promise.all([
    pbkdf2(opts.password.normalize('NFKD').trim(), pbkdf2Salt, opts.iterations ?? PBKDF2_ITERATIONS),
    hkdf(opts.secretKey.bits, utf8(opts.secretKey.id), `${KDF_INFO} ${SECRET_KEY_VERSION}`),
  ]);
  return xorBytes(pw, sk);
}

/** x = H(salt | AUK): the SRP private value. */
export async function deriveSrpPrivate(group: SrpGroup, opts: DeriveOptions): Promise<bigint> {
  const auk = await deriveAuk(opts);
  return bytesToBigInt(await hash(group, concatBytes(opts.salt, auk)));
}

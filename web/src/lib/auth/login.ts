// Sign-in flows in the browser: SRP-6a login with the two-secret derivation (password + Secret Key, both stay
// here), the first admin's bootstrap enrolment, invitation acceptance, logout. The server only ever sees
// the salt, the verifier and the SRP proofs.
import type { Me, SrpInitResponse } from '@tod/contracts';
import {
  computeLoginProof,
  createEnrolment,
  formatSecretKey,
  generateSecretKey,
  type SecretKey,
  startLogin,
  verifyServerProof,
} from '@tod/contracts/srp';
import { ApiError, api } from '../api/client';
import { forgetSecretKey, loadSecretKey, saveSecretKey } from './secret-key-store';

export type SignInOutcome =
  | { kind: 'signed-in'; me: Me }
  /** The account has no SRP verifier yet: the first admin enrols with the bootstrap password. */
  | { kind: 'enrollment-required' }
  /** This browser does not hold the account's Secret Key: ask for it (Emergency Kit). */
  | { kind: 'secret-key-required' };

export async function signIn(email: string, password: string, typedKey?: SecretKey): Promise<SignInOutcome> {
  let init: SrpInitResponse;
  try {
    init = await api.post<SrpInitResponse>('/api/auth/srp/init', { email }, { noReauth: true });
  } catch (err) {
    if (err instanceof ApiError && err.code === 'enrollment_required') return { kind: 'enrollment-required' };
    throw err;
  }
  const stored = typedKey ? null : await loadSecretKey(email);
  const key = typedKey ?? stored;
  if (!key) return { kind: 'secret-key-required' };
  // A stored key for another Secret Key (rotated elsewhere) is useless here: ask for the current one.
  if (!typedKey && init.secretKeyId && key.id !== init.secretKeyId) return { kind: 'secret-key-required' };
  const start = startLogin();
  const proof = await computeLoginProof({ email, password, secretKey: key }, start, init);
  const res = await api.post<{ M2: string; user: Me }>(
    '/api/auth/srp/verify',
    { handshakeId: init.handshakeId, A: start.A, M1: proof.M1 },
    { noReauth: true },
  );
  if (!verifyServerProof(proof, res.M2)) {
    throw new ApiError(
      401,
      'server_proof',
      'the server could not prove it knows your account; not signed in',
    );
  }
  await saveSecretKey(email, key);
  return { kind: 'signed-in', me: res.user };
}

export interface NewSecretKey {
  key: SecretKey;
  /** `A3-XXXXXX-…`, as printed in the Emergency Kit. */
  formatted: string;
}

/** First sign-in of the bootstrap super admin: a Secret Key made here, the verifier for the new password. */
export async function enrolFirstAdmin(
  email: string,
  bootstrapPassword: string,
  newPassword: string,
): Promise<NewSecretKey> {
  const key = generateSecretKey();
  const enrolment = await createEnrolment({ email, password: newPassword, secretKey: key });
  await api.post(
    '/api/auth/bootstrap',
    { email, password: bootstrapPassword, enrolment },
    { noReauth: true },
  );
  await saveSecretKey(email, key);
  return { key, formatted: formatSecretKey(key) };
}

/** Accepts an invitation: the invited email, a name and a password; a Secret Key made here. */
export async function acceptInvitation(
  token: string,
  email: string,
  name: string,
  password: string,
): Promise<NewSecretKey> {
  const key = generateSecretKey();
  const enrolment = await createEnrolment({ email, password, secretKey: key });
  await api.post('/api/auth/invitations/accept', { token, name, enrolment }, { noReauth: true });
  await saveSecretKey(email, key);
  return { key, formatted: formatSecretKey(key) };
}

export async function signOut(): Promise<void> {
  await api.post('/api/auth/logout', undefined, { noReauth: true });
}

export { forgetSecretKey };

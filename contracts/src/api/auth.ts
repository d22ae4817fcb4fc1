// Auth wire formats: SRP-6a login, enrolment, refresh/logout, the current principal.
import { z } from 'zod';

const hex = (max: number) =>
  z
    .string()
    .min(1)
    .max(max)
    .regex(/^[0-9a-f]+$/i, 'must be hex');

export const Email = z.email().max(254).toLowerCase();
export const Role = z.enum(['super_admin', 'admin', 'operator', 'viewer']);
export type Role = z.infer<typeof Role>;

/** What the browser derives at enrolment; the password and Secret Key stay in the browser. */
export const SrpEnrolment = z.strictObject({
  salt: hex(128),
  verifier: hex(1024),
  secretKeyId: z.string().regex(/^[0-9A-Z]{6}$/, 'must be the 6-character Secret Key id'),
});
export type SrpEnrolment = z.infer<typeof SrpEnrolment>;

export const SrpInitRequest = z.strictObject({ email: Email });
export const SrpInitResponse = z.object({
  handshakeId: z.uuid(),
  salt: z.string(),
  B: z.string(),
  secretKeyId: z.string().nullable(),
});
export type SrpInitResponse = z.infer<typeof SrpInitResponse>;

export const SrpProof = z.strictObject({ handshakeId: z.uuid(), A: hex(1024), M1: hex(128) });
export const SrpVerifyRequest = SrpProof;

export const Me = z.object({
  kind: z.enum(['user', 'api_key']),
  id: z.uuid(),
  email: z.string().nullable(),
  name: z.string().nullable(),
  role: Role,
  tenantId: z.uuid().nullable(),
});
export type Me = z.infer<typeof Me>;

export const SrpVerifyResponse = z.object({ M2: z.string(), user: Me });

/** First login of the bootstrap super admin: the configured password, checked once over TLS, is exchanged
 * for an SRP verifier and is useless afterwards. */
export const BootstrapEnrolRequest = z.strictObject({
  email: Email,
  password: z.string().min(1).max(1024),
  enrolment: SrpEnrolment,
});

/** Password change or Secret Key rotation: a fresh SRP proof with the current secrets, then the new verifier. */
export const ReenrolRequest = z.strictObject({ proof: SrpProof, enrolment: SrpEnrolment });

export const AcceptInvitationRequest = z.strictObject({
  token: z.string().min(10).max(200),
  name: z.string().trim().min(1).max(200),
  enrolment: SrpEnrolment,
});

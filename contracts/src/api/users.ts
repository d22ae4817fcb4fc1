import { z } from 'zod';
import { Email } from './auth';

export const TenantRole = z.enum(['admin', 'operator', 'viewer']);
export type TenantRole = z.infer<typeof TenantRole>;

export const User = z.object({
  id: z.uuid(),
  email: z.string(),
  name: z.string(),
  role: z.string(),
  disabled: z.boolean(),
  lastLoginAt: z.string().nullable(),
  createdAt: z.string(),
});
export type User = z.infer<typeof User>;

export const UpdateUserRequest = z
  .strictObject({
    name: z.string().trim().min(1).max(200).optional(),
    role: TenantRole.optional(),
    disabled: z.boolean().optional(),
  })
  .refine((v) => Object.keys(v).length > 0, 'nothing to update');

export const CreateInvitationRequest = z.strictObject({ email: Email, role: TenantRole });
export const Invitation = z.object({
  id: z.uuid(),
  email: z.string(),
  role: TenantRole,
  expiresAt: z.string(),
  acceptedAt: z.string().nullable(),
  revokedAt: z.string().nullable(),
  createdAt: z.string(),
});
/** The token is in the creation response only (to be mailed); it is stored as SHA-256. */
export const CreatedInvitation = Invitation.extend({ token: z.string() });

export const ApiKey = z.object({
  id: z.uuid(),
  name: z.string(),
  prefix: z.string(),
  role: z.enum(['operator', 'viewer']),
  lastUsedAt: z.string().nullable(),
  expiresAt: z.string().nullable(),
  revokedAt: z.string().nullable(),
  createdAt: z.string(),
});
export const CreateApiKeyRequest = z.strictObject({
  name: z.string().trim().min(1).max(200),
  role: z.enum(['operator', 'viewer']).default('operator'),
  expiresInDays: z.number().int().min(1).max(3650).optional(),
});
/** `key` (mktp_…) is shown once, here. */
export const CreatedApiKey = ApiKey.extend({ key: z.string() });

import { z } from 'zod';

export const Tenant = z.object({
  id: z.uuid(),
  name: z.string(),
  slug: z.string(),
  createdAt: z.string(),
});
export type Tenant = z.infer<typeof Tenant>;

const Slug = z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'lowercase letters, digits and dashes');
export const CreateTenantRequest = z.strictObject({ name: z.string().trim().min(1).max(200), slug: Slug });
export const UpdateTenantRequest = z.strictObject({ name: z.string().trim().min(1).max(200) });

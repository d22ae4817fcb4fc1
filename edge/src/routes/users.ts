// /api/users, /api/invitations and /api/api-keys: people and keys of one tenant (admin).
import {
  CreateApiKeyRequest,
  CreateInvitationRequest,
  NameListQuery,
  UpdateUserRequest,
} from '@tod/contracts';
import { apiKeys, invitations, users } from '@tod/drizzle/schema';
import { and, asc, eq, isNull, sql } from 'drizzle-orm';
import { Hono } from 'hono';
import type { AppEnv } from '../env';
import { ApiError } from '../errors';
import { inTenant, requireRole, sha256 } from '../middleware/auth';
import { randomToken } from '../services/tokens-random';
import { pathId, readBody, readQuery } from '../validate';
import { iso } from './dto';
import { nameFilters, pageOf } from './paging';

export const INVITATION_TTL_MS = 7 * 24 * 60 * 60 * 1000;

type UserRow = typeof users.$inferSelect;
const userDto = (u: UserRow) => ({
  id: u.id,
  email: u.email,
  name: u.name,
  role: u.role,
  disabled: u.disabledAt !== null,
  lastLoginAt: iso(u.lastLoginAt),
  createdAt: iso(u.createdAt)!,
});
type InvitationRow = typeof invitations.$inferSelect;
const invitationDto = (i: InvitationRow) => ({
  id: i.id,
  email: i.email,
  role: i.role,
  expiresAt: iso(i.expiresAt)!,
  acceptedAt: iso(i.acceptedAt),
  revokedAt: iso(i.revokedAt),
  createdAt: iso(i.createdAt)!,
});
type KeyRow = typeof apiKeys.$inferSelect;
const keyDto = (k: KeyRow) => ({
  id: k.id,
  name: k.name,
  prefix: k.prefix,
  role: k.role,
  lastUsedAt: iso(k.lastUsedAt),
  expiresAt: iso(k.expiresAt),
  revokedAt: iso(k.revokedAt),
  createdAt: iso(k.createdAt)!,
});

export const usersRoute = new Hono<AppEnv>();

usersRoute.get('/', requireRole('admin'), async (c) => {
  const q = readQuery(c, NameListQuery);
  const rows = await inTenant(c, ({ tx }) =>
    tx
      .select()
      .from(users)
      .where(and(...nameFilters(q, users.email, users.id)))
      .orderBy(asc(users.email), asc(users.id))
      .limit(q.limit + 1),
  );
  return c.json(pageOf(rows, q.limit, (u) => [u.email, u.id], userDto));
});

usersRoute.get('/:id', requireRole('admin'), async (c) => {
  const id = pathId(c);
  const row = await inTenant(c, async ({ tx }) => (await tx.select().from(users).where(eq(users.id, id)))[0]);
  if (!row) throw new ApiError(404, 'not_found', 'user not found');
  return c.json(userDto(row));
});

usersRoute.patch('/:id', requireRole('admin'), async (c) => {
  const id = pathId(c);
  const body = await readBody(c, UpdateUserRequest);
  if (id === c.var.principal.userId && (body.role !== undefined || body.disabled !== undefined)) {
    throw new ApiError(409, 'conflict', 'you cannot change your own role or disable yourself');
  }
  const row = await inTenant(c, async (s) => {
    const patch: Partial<typeof users.$inferInsert> = { updatedAt: new Date() };
    if (body.name !== undefined) patch.name = body.name;
    if (body.role !== undefined) patch.role = body.role;
    if (body.disabled !== undefined) patch.disabledAt = body.disabled ? new Date() : null;
    const [u] = await s.tx.update(users).set(patch).where(eq(users.id, id)).returning();
    if (u) await s.audit({ action: 'user.update', targetType: 'user', targetId: id, details: body });
    return u;
  });
  if (!row) throw new ApiError(404, 'not_found', 'user not found');
  return c.json(userDto(row));
});

usersRoute.delete('/:id', requireRole('admin'), async (c) => {
  const id = pathId(c);
  if (id === c.var.principal.userId) throw new ApiError(409, 'conflict', 'you cannot delete yourself');
  const row = await inTenant(c, async (s) => {
    const [u] = await s.tx.delete(users).where(eq(users.id, id)).returning({ id: users.id });
    if (u) await s.audit({ action: 'user.delete', targetType: 'user', targetId: id });
    return u;
  });
  if (!row) throw new ApiError(404, 'not_found', 'user not found');
  return c.body(null, 204);
});

export const invitationsRoute = new Hono<AppEnv>();

invitationsRoute.get('/', requireRole('admin'), async (c) => {
  const q = readQuery(c, NameListQuery);
  const rows = await inTenant(c, ({ tx }) =>
    tx
      .select()
      .from(invitations)
      .where(and(...nameFilters(q, invitations.email, invitations.id)))
      .orderBy(asc(invitations.email), asc(invitations.id))
      .limit(q.limit + 1),
  );
  return c.json(pageOf(rows, q.limit, (i) => [i.email, i.id], invitationDto));
});

invitationsRoute.post('/', requireRole('admin'), async (c) => {
  const body = await readBody(c, CreateInvitationRequest);
  const token = randomToken('tinv_');
  const row = await inTenant(c, async (s) => {
    const taken = await s.tx.execute(sql`SELECT 1 FROM tod_auth_user_by_email(${body.email})`);
    if (taken.length) throw new ApiError(409, 'conflict', 'a user with this email exists');
    const [i] = await s.tx
      .insert(invitations)
      .values({
        tenantId: s.tenantId,
        email: body.email,
        role: body.role,
        tokenHash: await sha256(token),
        invitedBy: s.principal.userId,
        expiresAt: new Date(Date.now() + INVITATION_TTL_MS),
      })
      .returning();
    await s.audit({ action: 'invitation.create', targetType: 'invitation', targetId: i!.id, details: body });
    return i!;
  });
  return c.json({ ...invitationDto(row), token }, 201);
});

invitationsRoute.delete('/:id', requireRole('admin'), async (c) => {
  const id = pathId(c);
  const row = await inTenant(c, async (s) => {
    const [i] = await s.tx
      .update(invitations)
      .set({ revokedAt: new Date() })
      .where(and(eq(invitations.id, id), isNull(invitations.revokedAt)))
      .returning({ id: invitations.id });
    if (i) await s.audit({ action: 'invitation.revoke', targetType: 'invitation', targetId: id });
    return i;
  });
  if (!row) throw new ApiError(404, 'not_found', 'invitation not found');
  return c.body(null, 204);
});

export const apiKeysRoute = new Hono<AppEnv>();
const ADMIN_NO_KEYS = { apiKeys: false } as const;

apiKeysRoute.get('/', requireRole('admin', ADMIN_NO_KEYS), async (c) => {
  const q = readQuery(c, NameListQuery);
  const rows = await inTenant(c, ({ tx }) =>
    tx
      .select()
      .from(apiKeys)
      .where(and(...nameFilters(q, apiKeys.name, apiKeys.id)))
      .orderBy(asc(apiKeys.name), asc(apiKeys.id))
      .limit(q.limit + 1),
  );
  return c.json(pageOf(rows, q.limit, (k) => [k.name, k.id], keyDto));
});

apiKeysRoute.post('/', requireRole('admin', ADMIN_NO_KEYS), async (c) => {
  const body = await readBody(c, CreateApiKeyRequest);
  const key = randomToken('mktp_');
  const row = await inTenant(c, async (s) => {
    const [k] = await s.tx
      .insert(apiKeys)
      .values({
        tenantId: s.tenantId,
        userId: s.principal.role === 'super_admin' ? null : s.principal.userId,
        name: body.name,
        prefix: key.slice(0, 12),
        keyHash: await sha256(key),
        role: body.role,
        expiresAt: body.expiresInDays ? new Date(Date.now() + body.expiresInDays * 86_400_000) : null,
      })
      .returning();
    await s.audit({
      action: 'api_key.create',
      targetType: 'api_key',
      targetId: k!.id,
      details: { name: body.name, role: body.role },
    });
    return k!;
  });
  return c.json({ ...keyDto(row), key }, 201);
});

apiKeysRoute.delete('/:id', requireRole('admin', ADMIN_NO_KEYS), async (c) => {
  const id = pathId(c);
  const row = await inTenant(c, async (s) => {
    const [k] = await s.tx
      .update(apiKeys)
      .set({ revokedAt: new Date() })
      .where(and(eq(apiKeys.id, id), isNull(apiKeys.revokedAt)))
      .returning({ id: apiKeys.id });
    if (k) await s.audit({ action: 'api_key.revoke', targetType: 'api_key', targetId: id });
    return k;
  });
  if (!row) throw new ApiError(404, 'not_found', 'API key not found');
  return c.body(null, 204);
});

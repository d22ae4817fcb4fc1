// The audit trail: every write and every login appends one row. Details are sealed with the tenant's data
// key; tenant-less entries (super admin sign-ins, unknown accounts) carry no details at all.
import { auditLog } from '@tod/drizzle/schema';
import type { Context } from 'hono';
import type { Tx } from '../db';
import type { AppEnv, Principal } from '../env';
import { sealJson } from './envelope';
import type { Kms } from './kms';

export interface AuditInput {
  action: string;
  targetType?: string;
  targetId?: string;
  outcome?: 'success' | 'failure';
  details?: Record<string, unknown>;
}

export interface AuditContext {
  tx: Tx;
  kms: Kms;
  tenantId: string | null;
  actor: { type: 'user' | 'api_key' | 'collector' | 'system' | 'anonymous'; id: string | null };
  ip: string | null;
  userAgent: string | null;
  requestId: string;
}

const IPV4 = /^(\d{1,3}\.){3}\d{1,3}$/;
const IPV6 = /^[0-9a-f:.]+$/i;

/** The caller's address as Cloudflare (or the fronting proxy) reports it; null when absent or malformed. */
export function clientIp(c: Context): string | null {
  const ip = c.req.header('cf-connecting-ip')?.trim();
  if (!ip || ip.length > 45) return null;
  if (IPV4.test(ip) && ip.split('.').every((o) => Number(o) <= 255)) return ip;
  if (ip.includes(':') && IPV6.test(ip)) return ip;
  return null;
}

export function auditContext(
  c: Context<AppEnv>,
  tx: Tx,
  kms: Kms,
  tenantId: string | null,
  principal?: Principal | null,
): AuditContext {
  return {
    tx,
    kms,
    tenantId,
    actor: principal ? { type: principal.kind, id: principal.id } : { type: 'anonymous', id: null },
    ip: clientIp(c),
    userAgent: c.req.header('user-agent')?.slice(0, 300) ?? null,
    requestId: c.var.requestId,
  };
}

export async function appendAudit(ctx: AuditContext, entry: AuditInput): Promise<void> {
  const detailsEnc =
    entry.details && ctx.tenantId
      ? await sealJson(
          { tx: ctx.tx, kms: ctx.kms, tenantId: ctx.tenantId, requestId: ctx.requestId },
          'audit',
          entry.details,
        )
      : null;
  await ctx.tx.insert(auditLog).values({
    tenantId: ctx.tenantId,
    actorType: ctx.actor.type,
    actorId: ctx.actor.id,
    action: entry.action,
    targetType: entry.targetType ?? null,
    targetId: entry.targetId ?? null,
    outcome: entry.outcome ?? 'success',
    ip: ctx.ip,
    userAgent: ctx.userAgent,
    requestId: ctx.requestId,
    detailsEnc,
  });
}

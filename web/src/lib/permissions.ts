// What each role may do in the portal, mirroring the edge's requireRole checks, so that controls a role may
// not use are absent or disabled rather than refused by the API.
import type { Role } from '@tod/contracts';

export type Action =
  | 'device.write'
  | 'device.import'
  | 'deviceSet.write'
  | 'config.batch'
  | 'config.template.write'
  | 'collector.manage'
  | 'user.manage'
  | 'apiKey.manage'
  | 'audit.read'
  | 'tenant.manage'
  | 'config.apply'
  | 'config.readSensitive'
  | 'settings.manage'
  | 'alert.handle'
  | 'alertRule.write'
  | 'maintenance.write'
  | 'channel.read'
  | 'channel.manage';

const MIN: Record<Action, Role> = {
  'device.write': 'operator',
  'device.import': 'operator',
  'deviceSet.write': 'operator',
  'config.batch': 'operator',
  'config.template.write': 'operator',
  'collector.manage': 'admin',
  'user.manage': 'admin',
  'apiKey.manage': 'admin',
  'audit.read': 'admin',
  'alert.handle': 'operator',
  'alertRule.write': 'operator',
  'maintenance.write': 'operator',
  'channel.read': 'operator',
  'channel.manage': 'admin',
  'tenant.manage': 'super_admin',
  'config.apply': 'operator',
  'config.readSensitive': 'operator',
  'settings.manage': 'admin',
};

const RANK: Record<Role, number> = { viewer: 1, operator: 2, admin: 3, super_admin: 4 };

export function can(role: Role | null | undefined, action: Action): boolean {
  if (!role) return false;
  return RANK[role] >= RANK[MIN[action]];
}

// Collector DTOs as the portal reads them (the wire format is contracts/src/api/collectors.ts).
export interface Collector {
  id: string;
  name: string;
  site: string;
  status: 'pending' | 'online' | 'offline' | 'revoked';
  version: string | null;
  lastSeenAt: string | null;
  enrolledAt: string | null;
  revokedAt: string | null;
  createdAt: string;
}
export interface CreatedCollector extends Collector {
  enrollToken: string;
  enrollTokenExpiresAt: string;
}

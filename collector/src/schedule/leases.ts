// Which collector of an HA group polls a shared device now: one lease per device in NATS KV `tod-leases`
// (`<tenant>.<device>`), taken and renewed with compare-and-swap on the key's revision before every poll. A
// holder that dies stops renewing and the bucket's max_age (the lease TTL) removes its entry, so a peer's next
// attempt takes the device over; a holder that stops gracefully deletes its entries so the takeover is quick.
import { JetStreamApiError } from '@nats-io/jetstream';
import { type KV, Kvm } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import { DeviceLease, LEASES_BUCKET, leaseKey } from '@tod/contracts';
import type { Clock } from '../clock';

/** What one attempt found: the lease is ours (new, renewed, reclaimed after our own restart, or kept through a
 * lease-store outage), or another collector holds it. */
export type LeaseAttempt = 'acquired' | 'renewed' | 'reclaimed' | 'kept' | 'elsewhere' | 'lost' | 'error';

export interface DeviceLeasesOptions {
  nc: NatsConnection;
  tenantId: string;
  collectorId: string;
  ttlMs: number;
  clock: Clock;
  onAttempt?: (outcome: LeaseAttempt) => void;
}

interface Held {
  revision: number;
  /** Local time just before the write that renewed it: the server's TTL runs from a later instant. */
  renewedAt: number;
}

const WRONG_LAST_SEQUENCE = 10071;

function isConflict(err: unknown): boolean {
  return (
    (err instanceof JetStreamApiError && err.code === WRONG_LAST_SEQUENCE) ||
    (err instanceof Error && /wrong last sequence/i.test(err.message))
  );
}

export class DeviceLeases {
  private readonly held = new Map<string, Held>();
  private kv: Promise<KV> | undefined;

  constructor(private readonly opts: DeviceLeasesOptions) {}

  get heldCount(): number {
    return this.held.size;
  }

  holds(deviceId: string): boolean {
    return this.held.has(deviceId);
  }

  /** The bucket is created by the first collector that needs it; its max_age is that collector's TTL. */
  private bucket(): Promise<KV> {
    this.kv ??= (async () => {
      const kvm = new Kvm(this.opts.nc);
      try {
        return await kvm.create(LEASES_BUCKET, { history: 1, ttl: this.opts.ttlMs });
      } catch {
        // Exists with another TTL (a peer configured differently): use it as it is.
        return await kvm.open(LEASES_BUCKET);
      }
    })();
    this.kv.catch(() => {
      this.kv = undefined;
    });
    return this.kv;
  }

  private value(): string {
    const lease: DeviceLease = {
      v: 1,
      collectorId: this.opts.collectorId,
      renewedAt: new Date(this.opts.clock.now()).toISOString(),
      ttlMs: this.opts.ttlMs,
    };
    return JSON.stringify(lease);
  }

  /** Takes or renews the device's lease; true when this collector may poll it now. */
  async acquire(deviceId: string): Promise<boolean> {
    const outcome = await this.attempt(deviceId);
    this.opts.onAttempt?.(outcome);
    return outcome !== 'elsewhere' && outcome !== 'lost' && outcome !== 'error';
  }

  private async attempt(deviceId: string): Promise<LeaseAttempt> {
    const key = leaseKey(this.opts.tenantId, deviceId);
    const mine = this.held.get(deviceId);
    let current = mine;
    const startedAt = this.opts.clock.now();
    try {
      const kv = await this.bucket();
      if (mine) {
        try {
          const revision = await kv.update(key, this.value(), mine.revision);
          this.held.set(deviceId, { revision, renewedAt: startedAt });
          return 'renewed';
        } catch (err) {
          if (!isConflict(err)) throw err;
          // Our entry expired (a renewal came too late) or a peer took the lapsed lease.
          this.held.delete(deviceId);
          current = undefined;
        }
      }
      const entry = await kv.get(key);
      let revision: number;
      let outcome: LeaseAttempt;
      if (!entry) {
        revision = await kv.create(key, this.value());
        outcome = 'acquired';
      } else if (entry.operation !== 'PUT') {
        revision = await kv.update(key, this.value(), entry.revision);
        outcome = 'acquired';
      } else {
        const holder = DeviceLease.safeParse(entry.json());
        // A lease under our own id that we do not know of: written before this process restarted.
        if (!holder.success || holder.data.collectorId !== this.opts.collectorId) {
          return mine ? 'lost' : 'elsewhere';
        }
        revision = await kv.update(key, this.value(), entry.revision);
        outcome = 'reclaimed';
      }
      this.held.set(deviceId, { revision, renewedAt: startedAt });
      return mine && outcome === 'acquired' ? 'renewed' : outcome;
    } catch (err) {
      if (isConflict(err)) return mine ? 'lost' : 'elsewhere';
      // Lease store unreachable: a lease we hold is still ours until it would have expired on the server, and
      // nobody can take it before then; after that we stop, since a peer may have taken it.
      if (current && this.opts.clock.now() < current.renewedAt + this.opts.ttlMs) return 'kept';
      this.held.delete(deviceId);
      return 'error';
    }
  }

  /** Gives a lease up (only if it is still the entry we wrote), so a peer can take the device at once. */
  async release(deviceId: string): Promise<void> {
    const mine = this.held.get(deviceId);
    if (!mine) return;
    this.held.delete(deviceId);
    const kv = await this.bucket();
    await kv.delete(leaseKey(this.opts.tenantId, deviceId), { previousSeq: mine.revision }).catch((err) => {
      if (!isConflict(err)) throw err;
    });
  }

  /** Releases every lease held; returns how many could not be released (they expire by TTL instead). */
  async releaseAll(): Promise<number> {
    const results = await Promise.allSettled([...this.held.keys()].map((id) => this.release(id)));
    return results.filter((r) => r.status === 'rejected').length;
  }

  /** Forgets the leases without releasing them (a crash, as far as peers can tell). */
  abandon(): void {
    this.held.clear();
  }
}

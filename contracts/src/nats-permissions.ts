// Who may do what on NATS, in one place: the pub/sub allow lists the edge writes into the user JWT it issues a
// collector at enrolment (NATS decentralized JWT auth, operator mode). A collector may publish only its own
// tenant's events, read only its own keys in the device registry, and use only the JetStream API calls those
// need; everything else is refused by nats-server. To let collectors do more (a new bucket, a new subject),
// add grants in `collectorNatsPermissions` and nowhere else.
import { DEVICES_BUCKET, EVENT_STREAM } from './events';

/** The lease bucket of collector high availability (per-device leases, keys `<tenant>.…`). */
export const LEASES_BUCKET = 'tod-leases';

/** nats-server's permission shape inside a user JWT (`nats.pub`, `nats.sub`, `nats.resp`). */
export interface NatsPermissions {
  pub: { allow: string[]; deny: string[] };
  sub: { allow: string[]; deny: string[] };
  /** Lets the holder answer requests made to it (one reply each). */
  resp?: { max: number; ttl: number };
}

const JS_API = '$JS.API';

/** The inbox prefix a collector must use (nats.js `inboxPrefix`): replies to it (JetStream acks, KV reads,
 * consumer deliveries) land under a prefix that only this collector may subscribe to, so no collector can
 * read another client's replies. */
export function collectorInboxPrefix(collectorId: string): string {
  return `_INBOX.${token(collectorId)}`;
}

/** Read keys under `keyPrefix` (`<a>.<b>`) of a KV bucket: stream info, direct get of the last value by key,
 * and watch/list through ordered consumers whose filter is the prefix (the filter is part of the subject of
 * nats-server's consumer-create API since 2.9, so it is enforced). */
export function kvReadGrants(bucket: string, keyPrefix: string): Pick<NatsPermissions, 'pub'> {
  const stream = `KV_${bucket}`;
  const keys = `$KV.${bucket}.${keyPrefix}.>`;
  return {
    pub: {
      allow: [
        `${JS_API}.STREAM.INFO.${stream}`,
        `${JS_API}.DIRECT.GET.${stream}.${keys}`,
        `${JS_API}.CONSUMER.CREATE.${stream}.*.${keys}`,
        `${JS_API}.CONSUMER.INFO.${stream}.*`,
        `${JS_API}.CONSUMER.DELETE.${stream}.*`,
        // Flow control replies of the ordered (push) consumers behind watch() and keys().
        `$JS.FC.${stream}.>`,
      ],
      deny: [],
    },
  };
}

/** Write (put, create, update, delete) keys under `keyPrefix` of a KV bucket; combine with kvReadGrants. */
export function kvWriteGrants(bucket: string, keyPrefix: string): Pick<NatsPermissions, 'pub'> {
  return { pub: { allow: [`$KV.${bucket}.${keyPrefix}.>`], deny: [] } };
}

/** Everything a collector of `tenantId` with id `collectorId` may do on NATS. */
export function collectorNatsPermissions(tenantId: string, collectorId: string): NatsPermissions {
  const t = token(tenantId);
  const c = token(collectorId);
  return merge(
    {
      pub: {
        allow: [
          // Its tenant's events (JetStream captures them in the stream; the ack comes to its inbox).
          `tod.evt.${t}.>`,
          // jetstreamManager()'s API check and the event stream's existence check.
          `${JS_API}.INFO`,
          `${JS_API}.STREAM.INFO.${EVENT_STREAM.name}`,
        ],
        deny: [],
      },
      sub: {
        allow: [
          `${collectorInboxPrefix(c)}.>`,
          // Requests to this collector (`tod.cmd.<tenant>.<collector>`).
          `tod.cmd.${t}.${c}`,
        ],
        deny: [],
      },
      resp: { max: 1, ttl: 0 },
    },
    kvReadGrants(DEVICES_BUCKET, `${t}.${c}`),
    // Per-device leases of an HA pair: any collector of the tenant takes and renews leases of its devices.
    kvReadGrants(LEASES_BUCKET, t),
    kvWriteGrants(LEASES_BUCKET, t),
  );
}

function merge(base: NatsPermissions, ...more: Partial<NatsPermissions>[]): NatsPermissions {
  const out: NatsPermissions = {
    pub: { allow: [...base.pub.allow], deny: [...base.pub.deny] },
    sub: { allow: [...base.sub.allow], deny: [...base.sub.deny] },
    ...(base.resp ? { resp: base.resp } : {}),
  };
  for (const m of more) {
    if (m.pub) {
      out.pub.allow.push(...m.pub.allow);
      out.pub.deny.push(...m.pub.deny);
    }
    if (m.sub) {
      out.sub.allow.push(...m.sub.allow);
      out.sub.deny.push(...m.sub.deny);
    }
  }
  out.pub.allow = [...new Set(out.pub.allow)];
  out.sub.allow = [...new Set(out.sub.allow)];
  return out;
}

/** A single subject token: ids are UUIDs, never a wildcard or a dot. */
function token(id: string): string {
  if (!/^[A-Za-z0-9_-]+$/.test(id)) throw new Error(`not a NATS subject token: ${JSON.stringify(id)}`);
  return id;
}

// Which devices this collector polls: the edge writes each device to NATS KV `tod-devices` under
// `<tenant>.<collector>.<device>`; the registry reads its own keys at start (full resync), then follows
// changes, opening each device's credentials with the collector's private key. Invalid entries are reported
// and skipped, never fatal.

import { type KV, KvWatchInclude } from '@nats-io/kv';
import { DeviceCredentials, DeviceRegistration } from '@tod/contracts';
import { type CryptoKey, compactDecrypt, type KeyObject } from 'jose';

export interface RegisteredDevice {
  registration: DeviceRegistration;
  credentials: DeviceCredentials;
}

export interface RegistryOptions {
  kv: KV;
  tenantId: string;
  collectorId: string;
  privateKey: CryptoKey | KeyObject;
  onUpsert: (device: RegisteredDevice) => void;
  onRemove: (deviceId: string) => void;
  onInvalid?: (key: string, reason: string) => void;
}

export async function unsealCredentials(
  jwe: string,
  privateKey: CryptoKey | KeyObject,
): Promise<DeviceCredentials> {
  const { plaintext } = await compactDecrypt(jwe, privateKey);
  return DeviceCredentials.parse(JSON.parse(new TextDecoder().decode(plaintext)));
}

const RESYNC_BATCH = 64;

export class DeviceRegistry {
  private readonly revisions = new Map<string, number>();
  private watcher: { stop(): void } | undefined;
  private loop: Promise<void> | undefined;

  constructor(private readonly opts: RegistryOptions) {}

  private get prefix(): string {
    return `${this.opts.tenantId}.${this.opts.collectorId}`;
  }

  /** Resolves once every current entry has been applied; changes keep flowing afterwards. */
  async start(): Promise<void> {
    const { kv } = this.opts;
    // Watch first, then list: a change made while listing is seen by the watcher, and revisions decide.
    const iter = await kv.watch({ key: `${this.prefix}.>`, include: KvWatchInclude.UpdatesOnly });
    this.watcher = iter;
    this.loop = (async () => {
      for await (const entry of iter) {
        await this.apply(entry.key, entry.revision, entry.operation, entry.value);
      }
    })();
    const keys: string[] = [];
    for await (const key of await kv.keys(`${this.prefix}.>`)) keys.push(key);
    // Many at once: a fleet of 10,000 read one by one costs 10,000 round trips and unseals end to end.
    for (let i = 0; i < keys.length; i += RESYNC_BATCH) {
      await Promise.all(
        keys.slice(i, i + RESYNC_BATCH).map(async (key) => {
          const entry = await kv.get(key);
          if (entry) await this.apply(entry.key, entry.revision, entry.operation, entry.value);
        }),
      );
    }
  }

  async stop(): Promise<void> {
    this.watcher?.stop();
    await this.loop?.catch(() => {});
  }

  private async apply(key: string, revision: number, operation: string, value: Uint8Array): Promise<void> {
    const seen = this.revisions.get(key) ?? 0;
    if (revision <= seen) return;
    this.revisions.set(key, revision);
    const deviceId = key.split('.')[2] ?? '';
    if (operation !== 'PUT') {
      this.opts.onRemove(deviceId);
      return;
    }
    try {
      const registration = DeviceRegistration.parse(JSON.parse(new TextDecoder().decode(value)));
      if (
        registration.tenantId !== this.opts.tenantId ||
        registration.collectorId !== this.opts.collectorId ||
        registration.deviceId !== deviceId
      ) {
        throw new Error('entry names another tenant, collector or device than its key');
      }
      const credentials = await unsealCredentials(registration.credentials, this.opts.privateKey);
      // A newer revision of the key was applied while this one was being unsealed: it wins.
      if (this.revisions.get(key) !== revision) return;
      this.opts.onUpsert({ registration, credentials });
    } catch (err) {
      if (this.revisions.get(key) !== revision) return;
      // A device we cannot read is not polled with stale settings either.
      this.opts.onRemove(deviceId);
      this.opts.onInvalid?.(key, err instanceof Error ? err.message : String(err));
    }
  }
}

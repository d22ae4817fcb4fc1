// Which KMS the edge uses, built once per env object from the validated config.
import { configFor } from '../middleware/config';
import { type Kms, localKms, transitKms } from './kms';

const cache = new WeakMap<object, Kms>();

export function kmsFor(env: object): Kms {
  let kms = cache.get(env);
  if (!kms) {
    const cfg = configFor(env);
    kms =
      cfg.KMS_BACKEND === 'transit'
        ? transitKms({
            addr: cfg.TRANSIT_ADDR!,
            token: cfg.TRANSIT_TOKEN!,
            mount: cfg.TRANSIT_MOUNT,
            keyPrefix: cfg.TRANSIT_KEY_PREFIX,
          })
        : localKms(cfg.CREDENTIAL_ENCRYPTION_KEY);
    cache.set(env, kms);
  }
  return kms;
}

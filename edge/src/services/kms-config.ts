// Which KMS the edge uses, built once per env object from the validated config.
import { configFor } from '../middleware/config';
import { type Kms, localKms } from './kms';

const cache = new WeakMap<object, Kms>();

export function kmsFor(env: object): Kms {
  let kms = cache.get(env);
  if (!kms) {
    kms = localKms(configFor(env).CREDENTIAL_ENCRYPTION_KEY);
    cache.set(env, kms);
  }
  return kms;
}

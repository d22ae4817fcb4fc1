// Bearer secrets the API hands out once (API keys, invitation and collector enrol tokens): 256 random bits
// in base64url; only their SHA-256 is stored.
import { randomBytes } from '@tod/contracts/srp';

export function randomToken(prefix = ''): string {
  const b64 = btoa(String.fromCharCode(...randomBytes(32)))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '');
  return prefix + b64;
}

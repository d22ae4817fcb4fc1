// A loopback OpenBao/Vault Transit engine for tests: the encrypt, decrypt and rewrap endpoints as documented
// (POST /v1/<mount>/<op>/<key>, X-Vault-Token, base64 plaintext, `vault:vN:` ciphertext), versioned keys
// created on first encrypt, AES-256-GCM, and a rotate() hook.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export const TRANSIT_TOKEN = 'test-transit-token';
const TOKEN = TRANSIT_TOKEN;

export /** A minimal Transit engine: per-name key versions, AES-256-GCM, rotation by test hook. */
class FakeTransit {
  keys = new Map<string, Buffer[]>();
  calls: string[] = [];
  server: Server = createServer((req, res) => {
    let raw = '';
    req.on('data', (c) => {
      raw += c;
    });
    req.on('end', () => {
      const m = req.url?.match(/^\/v1\/transit\/(encrypt|decrypt|rewrap)\/([\w-]+)$/);
      if (req.headers['x-vault-token'] !== TOKEN)
        return this.reply(res, 403, { errors: ['permission denied'] });
      if (req.method !== 'POST' || !m) return this.reply(res, 404, { errors: [] });
      const [, op, name] = m as unknown as [string, string, string];
      this.calls.push(`${op}:${name}`);
      const body = JSON.parse(raw) as { plaintext?: string; ciphertext?: string };
      try {
        if (op === 'encrypt') {
          if (!this.keys.has(name)) this.keys.set(name, [randomBytes(32)]);
          return this.reply(res, 200, {
            data: { ciphertext: this.encrypt(name, Buffer.from(body.plaintext!, 'base64')) },
          });
        }
        const pt = this.decrypt(name, body.ciphertext!);
        if (op === 'decrypt') return this.reply(res, 200, { data: { plaintext: pt.toString('base64') } });
        return this.reply(res, 200, { data: { ciphertext: this.encrypt(name, pt) } });
      } catch {
        return this.reply(res, 400, { errors: ['invalid ciphertext'] });
      }
    });
  });

  reply(res: ServerResponse, status: number, body: unknown) {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  }

  encrypt(name: string, pt: Buffer): string {
    const versions = this.keys.get(name)!;
    const iv = randomBytes(12);
    const c = createCipheriv('aes-256-gcm', versions[versions.length - 1]!, iv);
    const ct = Buffer.concat([iv, c.update(pt), c.final(), c.getAuthTag()]);
    return `vault:v${versions.length}:${ct.toString('base64')}`;
  }

  decrypt(name: string, ciphertext: string): Buffer {
    const [, v, b64] = ciphertext.match(/^vault:v(\d+):(.+)$/)!;
    const key = this.keys.get(name)?.[Number(v) - 1];
    if (!key) throw new Error('no key');
    const buf = Buffer.from(b64!, 'base64');
    const d = createDecipheriv('aes-256-gcm', key, buf.subarray(0, 12));
    d.setAuthTag(buf.subarray(buf.length - 16));
    return Buffer.concat([d.update(buf.subarray(12, buf.length - 16)), d.final()]);
  }

  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  rotate(name: string) {
    this.keys.get(name)!.push(randomBytes(32));
  }
}

// Wire-level conformance against a live fleet, driven by a byte-level client.
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Fleet, startFleet } from '../src/index';
import { encodeLength } from '../src/wire/codec';
import { attrs, RawClient, rows } from './helpers/raw-client';

let fleet: Fleet;
const port = (i: number) => fleet.manifest.devices[i]?.port ?? 0;
const clients: RawClient[] = [];
async function loggedIn(i = 0, user = 'admin', pw = 'admin'): Promise<RawClient> {
  const c = await RawClient.connect(port(i));
  clients.push(c);
  await c.login(user, pw);
  return c;
}

beforeAll(async () => {
  fleet = await startFleet({
    devices: 3,
    tls: false,
    boards: ['rb5009', 'hap-ax3', 'lhg-5'],
    users: [{ name: 'reader', password: 'r', group: 'read' }],
  });
});
afterAll(async () => {
  for (const c of clients) c.close();
  await fleet.stop();
});

describe('login', () => {
  it('accepts the post-6.43 plain login and answers a bare !done', async () => {
    const c = await RawClient.connect(port(0));
    clients.push(c);
    const r = await c.call(['/login', '=name=admin', '=password=admin'], 'a');
    expect(r).toEqual([['!done', '.tag=a']]);
  });

  it('answers a wrong password with the 7.x trap then !done and keeps the connection', async () => {
    const c = await RawClient.connect(port(0));
    clients.push(c);
    const r = await c.call(['/login', '=name=admin', '=password=nope'], 'b');
    expect(r).toEqual([
      ['!trap', '.tag=b', '=message=invalid user name or password (6)'],
      ['!done', '.tag=b'],
    ]);
    expect(c.closed).toBe(false);
    await c.login();
  });

  it('runs the MD5 challenge flow on a pre-6.43 personality', async () => {
    const c = await RawClient.connect(port(2));
    clients.push(c);
    const r1 = await c.call(['/login', '=name=admin', '=password=admin'], 'c1');
    const challenge = attrs(r1[0] ?? []).ret ?? '';
    expect(challenge).toMatch(/^[0-9a-f]{32}$/);
    const md5 = createHash('md5')
      .update(Buffer.concat([Buffer.from([0]), Buffer.from('admin'), Buffer.from(challenge, 'hex')]))
      .digest('hex');
    const r2 = await c.call(['/login', '=name=admin', `=response=00${md5}`], 'c2');
    expect(r2).toEqual([['!done', '.tag=c2']]);
    const id = await c.call(['/system/identity/print'], 'c3');
    expect(rows(id)[0]?.name).toBe('sim-00002');
  });

  it('rejects a wrong challenge response with "cannot log in" on legacy devices', async () => {
    const c = await RawClient.connect(port(2));
    clients.push(c);
    await c.call(['/login'], 'd1');
    const r = await c.call(['/login', '=name=admin', '=response=00deadbeef'], 'd2');
    expect(r[0]).toEqual(['!trap', '.tag=d2', '=message=cannot log in']);
  });

  it('refuses commands before login', async () => {
    const c = await RawClient.connect(port(0));
    clients.push(c);
    const r = await c.call(['/system/resource/print'], 'e');
    expect(r[0]).toEqual(['!trap', '.tag=e', '=message=not logged in']);
  });
});

describe('framing', () => {
  it.each([0x7f, 0x80, 0x3fff, 0x4000, 0x1fffff, 0x200000])(
    'carries a %i-byte word both ways with the right prefix',
    async (len) => {
      const c = await loggedIn();
      const prefix = '=comment=';
      const value = 'v'.repeat(len - prefix.length);
      const r = await c.call(
        ['/ip/firewall/address-list/add', '=list=big', '=address=10.9.9.9', `${prefix}${value}`],
        `w${len}`,
      );
      const id = attrs(r[0] ?? []).ret ?? '';
      const start = Buffer.concat(c.raw).length;
      const p = await c.call(
        ['/ip/firewall/address-list/print', `?.id=${id}`, '=.proplist=comment'],
        `p${len}`,
      );
      expect(rows(p)[0]?.comment?.length).toBe(value.length);
      const bytes = Buffer.concat(c.raw).subarray(start);
      expect(bytes.indexOf(Buffer.concat([encodeLength(len), Buffer.from(prefix)]))).toBeGreaterThan(0);
      await c.call(['/ip/firewall/address-list/remove', `=.id=${id}`], `r${len}`);
    },
  );

  it('parses requests split at every byte, including inside the length prefix and before the final zero', async () => {
    const c = await loggedIn();
    const { encodeSentence } = await import('../src/wire/codec');
    const bytes = encodeSentence([
      '/system/identity/print',
      `=.proplist=name,${'x'.repeat(200)}`,
      '.tag=frag',
    ]);
    for (const b of bytes) {
      c.writeBytes([b]);
      await new Promise((r) => setImmediate(r));
    }
    await c.waitFor((s) => s.some((x) => x[0] === '!done' && x.includes('.tag=frag')));
    expect(rows(c.sentences.filter((s) => s.includes('.tag=frag')))[0]?.name).toBe('sim-00000');
  });

  it('ignores empty sentences', async () => {
    const c = await loggedIn();
    c.writeBytes([0, 0]);
    const r = await c.call(['/system/identity/print'], 'emp');
    expect(r.map((s) => s[0])).toEqual(['!re', '!done']);
  });

  it.each([
    ['a reserved control byte', [0xf8, 0x01]],
    ['a 0xFFFFFFF-byte word announcement', [0xef, 0xff, 0xff, 0xff]],
    ['a 0x10000000-byte word announcement', [0xf0, 0x10, 0x00, 0x00, 0x00]],
  ])('closes only the offending connection on %s', async (_name, bytes) => {
    const bad = await loggedIn();
    const good = await loggedIn();
    bad.writeBytes(bytes);
    await bad.closedPromise;
    const r = await good.call(['/system/identity/print'], 'still');
    expect(rows(r)[0]?.name).toBe('sim-00000');
  });

  it('answers /quit with a bare !fatal word and closes', async () => {
    const c = await loggedIn();
    c.send(['/quit', '.tag=q']);
    await c.closedPromise;
    expect(c.sentences.at(-1)).toEqual(['!fatal', 'session terminated on request']);
  });
});

describe('commands', () => {
  it('interleaves tagged commands and echoes the tag right after the reply word', async () => {
    const c = await loggedIn();
    c.send(['/ip/address/listen', '.tag=L']);
    c.send(['/ip/address/add', '=address=10.50.0.1/24', '=interface=ether3', '.tag=A']);
    c.send(['/system/identity/print', '.tag=I']);
    await c.waitFor(
      (s) =>
        s.some((x) => x[0] === '!done' && x[1] === '.tag=I') &&
        s.some((x) => x[0] === '!re' && x[1] === '.tag=L'),
    );
    const listen = c.sentences.find((x) => x[1] === '.tag=L');
    expect(attrs(listen ?? [])).toMatchObject({
      address: '10.50.0.1/24',
      network: '10.50.0.0',
      interface: 'ether3',
    });
    for (const s of c.sentences) expect(s[1]).toMatch(/^\.tag=/);
    const id = attrs(c.sentences.find((x) => x[1] === '.tag=A' && x[0] === '!done') ?? []).ret ?? '';
    expect(id).toMatch(/^\*[0-9A-F]+$/);
    c.send(['/ip/address/remove', `=.id=${id}`, '.tag=R']);
    await c.waitFor((s) => s.some((x) => x[1] === '.tag=L' && x.includes('=.dead=true')));
    const cancel = await c.call(['/cancel', '=tag=L'], 'C');
    expect(cancel).toEqual([['!done', '.tag=C']]);
    const tail = c.sentences.slice(-3);
    expect(tail).toEqual([
      ['!trap', '.tag=L', '=category=2', '=message=interrupted'],
      ['!done', '.tag=C'],
      ['!done', '.tag=L'],
    ]);
  });

  it('adds no tags when the client sends none', async () => {
    const c = await loggedIn();
    c.send(['/system/identity/print']);
    await c.waitFor((s) => s.some((x) => x[0] === '!done' && x.length === 1));
    expect(c.sentences.slice(-2)).toEqual([['!re', '=name=sim-00000'], ['!done']]);
  });

  it('cancels every running command when /cancel has no tag', async () => {
    const c = await loggedIn();
    c.send(['/interface/listen', '.tag=x1']);
    c.send(['/log/print', '=follow-only=', '.tag=x2']);
    const r = await c.call(['/cancel'], 'all');
    expect(r).toEqual([['!done', '.tag=all']]);
    await c.waitFor((s) => s.some((x) => x[0] === '!done' && x[1] === '.tag=x2'));
    expect(
      c.sentences
        .filter((s) => s[0] === '!trap')
        .map((s) => s[1])
        .sort(),
    ).toEqual(['.tag=x1', '.tag=x2']);
  });

  it('applies queries, .proplist and count-only', async () => {
    const c = await loggedIn();
    const r = await c.call(
      ['/interface/print', '?type=ether', '?type=bridge', '?#|', '=.proplist=name,type'],
      'q',
    );
    const got = rows(r);
    expect(got.every((x) => Object.keys(x).sort().join() === 'name,type')).toBe(true);
    expect(new Set(got.map((x) => x.type))).toEqual(new Set(['ether', 'bridge']));
    const n = await c.call(['/interface/print', '=count-only=', '?type=ether'], 'n');
    expect(n).toEqual([['!done', '.tag=n', `=ret=${got.filter((x) => x.type === 'ether').length}`]]);
  });

  it('answers zero rows with !done before 7.18 and !empty + !done from 7.18', async () => {
    const old = await loggedIn(0);
    const neu = await loggedIn(1);
    expect(await old.call(['/ip/route/print', '?gateway=none'], 'z')).toEqual([['!done', '.tag=z']]);
    expect(await neu.call(['/ip/route/print', '?gateway=none'], 'z')).toEqual([
      ['!empty', '.tag=z'],
      ['!done', '.tag=z'],
    ]);
  });

  it('answers unknown menus and commands with the two RouterOS traps', async () => {
    const c = await loggedIn();
    expect(await c.call(['/ip/adress/print'], 'u')).toEqual([
      ['!trap', '.tag=u', '=category=0', '=message=no such command or directory (adress)'],
      ['!trap', '.tag=u', '=message=no such command prefix'],
      ['!done', '.tag=u'],
    ]);
    const wifi = await c.call(['/interface/wifi/print'], 'w');
    expect(attrs(wifi[0] ?? []).message).toBe('no such command or directory (wifi)');
    const bad = await c.call(['/ip/address/frobnicate'], 'f');
    expect(attrs(bad[0] ?? []).message).toBe('no such command or directory (frobnicate)');
  });

  it('answers bad arguments with category-1 traps', async () => {
    const c = await loggedIn();
    expect(await c.call(['/ip/address/add', '=address=192.0.2.1/24', '=interface=asdf'], 'b')).toEqual([
      ['!trap', '.tag=b', '=category=1', '=message=input does not match any value of interface'],
      ['!done', '.tag=b'],
    ]);
    expect(attrs((await c.call(['/ip/address/set', '=.id=*FFFF', '=comment=x'], 'c'))[0] ?? []).message).toBe(
      'no such item',
    );
    expect(attrs((await c.call(['/ip/address/add', '=bogus=1'], 'd'))[0] ?? []).message).toBe(
      'unknown parameter',
    );
  });

  it('enforces group policies per command', async () => {
    const c = await loggedIn(0, 'reader', 'r');
    expect(rows(await c.call(['/system/identity/print'], 'r1')).length).toBe(1);
    expect(await c.call(['/system/identity/set', '=name=hacked'], 'r2')).toEqual([
      ['!trap', '.tag=r2', '=message=not enough permissions (9)'],
      ['!done', '.tag=r2'],
    ]);
  });

  it('accepts an item name as .id and getall as an alias of print', async () => {
    const c = await loggedIn();
    await c.call(['/interface/set', '=.id=ether3', '=comment=uplink'], 'n1');
    const r = rows(await c.call(['/interface/getall', '?comment=uplink', '=.proplist=.id,name'], 'n2'));
    expect(r).toEqual([{ '.id': expect.stringMatching(/^\*[0-9A-F]+$/), name: 'ether3' }]);
  });

  it('answers the node-routeros keepalive # with a tagged !done', async () => {
    const c = await loggedIn();
    expect(await c.call(['#'], 'k')).toEqual([['!done', '.tag=k']]);
  });

  it('sets, gets, moves, disables and removes items like RouterOS', async () => {
    const c = await loggedIn();
    const a =
      attrs(
        (
          await c.call(['/ip/firewall/filter/add', '=chain=forward', '=action=drop', '=comment=one'], 'a1')
        )[0] ?? [],
      ).ret ?? '';
    const b =
      attrs(
        (
          await c.call(['/ip/firewall/filter/add', '=chain=forward', '=action=accept', '=comment=two'], 'a2')
        )[0] ?? [],
      ).ret ?? '';
    await c.call(['/ip/firewall/filter/move', `=numbers=${b}`, `=destination=${a}`], 'm');
    const order = rows(await c.call(['/ip/firewall/filter/print', '?chain=forward'], 'p')).map(
      (r) => r.comment,
    );
    expect(order).toEqual(['two', 'one']);
    await c.call(['/ip/firewall/filter/disable', `=.id=${a},${b}`], 'dis');
    expect(
      await c.call(['/ip/firewall/filter/print', '?chain=forward', '?disabled=yes', '=count-only='], 'cnt'),
    ).toEqual([['!done', '.tag=cnt', '=ret=2']]);
    expect(
      attrs((await c.call(['/ip/firewall/filter/get', `=number=${a}`, '=value-name=disabled'], 'g'))[0] ?? [])
        .ret,
    ).toBe('true');
    await c.call(['/ip/firewall/filter/remove', `=.id=${a},${b}`], 'rm');
    expect(rows(await c.call(['/ip/firewall/filter/print', '?chain=forward'], 'p2'))).toEqual([]);
    const hist = rows(await c.call(['/system/history/print'], 'h'));
    expect(hist.some((h) => h.action === 'filter added' && h.by === 'admin')).toBe(true);
  });

  it('streams monitor-traffic until cancelled and honours =once=', async () => {
    const c = await loggedIn();
    const once = rows(
      await c.call(['/interface/monitor-traffic', '=interface=ether1,ether2', '=once='], 'o'),
    );
    expect(once.map((r) => r.name)).toEqual(['ether1', 'ether2']);
    expect(Number(once[0]?.['rx-bits-per-second'])).toBeGreaterThan(0);
    c.send(['/interface/monitor-traffic', '=interface=ether1', '.tag=mt']);
    await c.waitFor((s) => s.filter((x) => x[1] === '.tag=mt').length >= 1);
    await c.call(['/cancel', '=tag=mt'], 'cm');
    await c.waitFor((s) => s.some((x) => x[0] === '!done' && x[1] === '.tag=mt'));
  });
});

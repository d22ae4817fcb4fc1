// Behaviour over time with an injected clock: reboots, upgrades, schedulers, history, export, live counters, topology.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Fleet, ManualClock, startFleet } from '../src/index';
import { attrs, RawClient, rows } from './helpers/raw-client';

const clock = new ManualClock(Date.UTC(2025, 0, 12, 8, 0, 0));
let fleet: Fleet;
const clients: RawClient[] = [];
async function loggedIn(i: number): Promise<RawClient> {
  const c = await RawClient.connect(fleet.manifest.devices[i]?.port ?? 0);
  clients.push(c);
  await c.login();
  return c;
}
let seq = 0;
const q = async (c: RawClient, words: string[]) => c.call(words, `t${seq++}`);

beforeAll(async () => {
  // 0 rb5009 (7.16.2) · 1 hap-ax3 (7.18.2, wifi AP) · 2 lhg-5 (6.42, station) · 3 wap-ac (6.49, wireless AP) · 4 lhg-5
  fleet = await startFleet({
    devices: 5,
    tls: false,
    clock,
    boards: ['rb5009', 'hap-ax3', 'lhg-5', 'wap-ac', 'lhg-5'],
    rebootDurationMs: 4000,
  });
});
afterAll(async () => {
  for (const c of clients) c.close();
  await fleet.stop();
});

describe('live values', () => {
  it('grows interface counters with time and varies cpu load', async () => {
    const c = await loggedIn(0);
    const read = async () =>
      Number(rows(await q(c, ['/interface/print', '?name=ether1', '=.proplist=rx-byte']))[0]?.['rx-byte']);
    const loads = new Set<string>();
    const a = await read();
    for (let i = 0; i < 10; i++) {
      clock.advance(7000);
      loads.add(rows(await q(c, ['/system/resource/print']))[0]?.['cpu-load'] ?? '');
    }
    const b = await read();
    expect(b).toBeGreaterThan(a);
    expect((b - a) / 70).toBeGreaterThan(1000);
    expect(loads.size).toBeGreaterThan(1);
  });

  it('shows v7 health as rows and v6 health as one row of attributes', async () => {
    const v7 = rows(await q(await loggedIn(0), ['/system/health/print']));
    expect(v7.map((r) => r.name)).toContain('cpu-temperature');
    const v6 = rows(await q(await loggedIn(3), ['/system/health/print']));
    expect(v6).toHaveLength(1);
    expect(v6[0]?.voltage).toMatch(/^\d+\.\d$/);
  });

  it('formats dates per version (ISO from 7.10, mmm/dd/yyyy before)', async () => {
    expect(rows(await q(await loggedIn(0), ['/system/clock/print']))[0]?.date).toBe('2025-01-12');
    expect(rows(await q(await loggedIn(3), ['/system/clock/print']))[0]?.date).toBe('jan/12/2025');
  });
});

describe('streaming prints', () => {
  it('re-prints every =interval= of clock time until cancelled', async () => {
    const c = await loggedIn(0);
    c.send(['/system/identity/print', '=interval=2s', '.tag=iv']);
    await c.waitFor(() => true);
    await q(c, ['#']);
    clock.advance(0);
    clock.advance(2000);
    clock.advance(2000);
    await c.waitFor((s) => s.filter((x) => x[1] === '.tag=iv').length >= 3);
    await q(c, ['/cancel', '=tag=iv']);
    clock.advance(10000);
    await q(c, ['#']);
    expect(c.sentences.filter((x) => x[0] === '!re' && x[1] === '.tag=iv')).toHaveLength(3);
  });
});

describe('topology', () => {
  it("shows APs and CPEs in each other's registration tables with consistent MACs, and as neighbours", async () => {
    const ap = await loggedIn(3);
    const cpe = await loggedIn(4);
    const apMac = rows(await q(ap, ['/interface/print', '?name=wlan1']))[0]?.['mac-address'];
    const cpeMac = rows(await q(cpe, ['/interface/print', '?name=wlan1']))[0]?.['mac-address'];
    const apReg = rows(await q(ap, ['/interface/wireless/registration-table/print']));
    const cpeReg = rows(await q(cpe, ['/interface/wireless/registration-table/print']));
    expect(apReg.map((r) => r['mac-address'])).toEqual([cpeMac]);
    expect(cpeReg.map((r) => r['mac-address'])).toEqual([apMac]);
    expect(cpeReg[0]?.ap).toBe('true');
    const s1 = apReg[0]?.['signal-strength'];
    clock.advance(11000);
    const s2 = rows(await q(ap, ['/interface/wireless/registration-table/print']))[0]?.['signal-strength'];
    expect(s1).toMatch(/^-\d+@6Mbps$/);
    expect(s2).not.toBe(s1);
    const nb = rows(await q(cpe, ['/ip/neighbor/print']));
    expect(nb[0]).toMatchObject({
      identity: 'sim-00003',
      'mac-address': apMac,
      interface: 'wlan1',
      board: 'RBwAPG-5HacD2HnD',
    });
  });

  it('uses the wifi registration table on 7.13+ wifi boards', async () => {
    const ap = await loggedIn(1);
    const reg = rows(await q(ap, ['/interface/wifi/registration-table/print']));
    const cpeMac = rows(await q(await loggedIn(2), ['/interface/print', '?name=wlan1']))[0]?.['mac-address'];
    expect(reg.map((r) => r['mac-address'])).toEqual([cpeMac]);
    expect(reg[0]?.signal).toMatch(/^-\d+$/);
    expect(attrs((await q(ap, ['/interface/wireless/print']))[0] ?? []).message).toBe(
      'no such command or directory (wireless)',
    );
  });
});

describe('lifecycle', () => {
  it('drops connections on reboot and resets uptime', async () => {
    const c = await loggedIn(0);
    expect(await q(c, ['/system/reboot'])).toHaveLength(1);
    await c.closedPromise;
    clock.advance(4000);
    clock.advance(65000);
    const d = await loggedIn(0);
    expect(rows(await q(d, ['/system/resource/print']))[0]?.uptime).toBe('1m5s');
  });

  it('moves to a new version through check-for-updates, download, install and a reboot', async () => {
    const c = await loggedIn(0);
    const check = await q(c, ['/system/package/update/check-for-updates']);
    expect(rows(check).map((r) => r['.section'])).toEqual(['0', '1']);
    expect(rows(check)[1]).toMatchObject({
      'installed-version': '7.16.2',
      'latest-version': '7.16.3',
      status: 'New version is available',
    });
    await q(c, ['/system/package/update/download']);
    expect(rows(await q(c, ['/system/package/update/print']))[0]?.status).toBe(
      'Downloaded, please reboot router to upgrade it',
    );
    await q(c, ['/system/package/update/install']);
    await c.closedPromise;
    clock.advance(4000);
    const d = await loggedIn(0);
    expect(rows(await q(d, ['/system/resource/print']))[0]?.version).toBe('7.16.3 (stable)');
    expect(rows(await q(d, ['/system/package/update/print']))[0]?.['installed-version']).toBe('7.16.3');
  });

  it('runs a panic-revert scheduler that restores the saved config', async () => {
    const c = await loggedIn(0);
    await q(c, ['/system/backup/save', '=name=flash/pre-change', '=dont-encrypt=yes']);
    await q(c, ['/export', '=file=flash/pre-change', '=show-sensitive=']);
    const files = rows(await q(c, ['/file/print', '?name=flash/pre-change.rsc']));
    expect(files[0]).toMatchObject({ type: 'script' });
    await q(c, [
      '/system/script/add',
      '=name=panic-revert',
      '=source=/system backup load name=flash/pre-change.backup password=""',
    ]);
    const clk = rows(await q(c, ['/system/clock/print']))[0] ?? {};
    const [hh, mm] = (clk.time ?? '00:00:00').split(':').map(Number);
    const at = `${String(hh).padStart(2, '0')}:${String((mm ?? 0) + 2).padStart(2, '0')}:00`;
    await q(c, [
      '/system/scheduler/add',
      '=name=panic-revert',
      `=start-date=${clk.date}`,
      `=start-time=${at}`,
      '=interval=0s',
      '=on-event=panic-revert',
    ]);
    await q(c, ['/system/identity/set', '=name=broken-change']);
    expect(rows(await q(c, ['/system/history/print'])).some((h) => h.action === 'identity changed')).toBe(
      true,
    );
    clock.advance(3 * 60000);
    await c.closedPromise;
    clock.advance(4000);
    const d = await loggedIn(0);
    expect(rows(await q(d, ['/system/identity/print']))[0]?.name).toBe('sim-00000');
    expect(rows(await q(d, ['/system/scheduler/print', '?name=panic-revert'])).length).toBe(0);
  });

  it('re-applies an exported config with /import after items were removed', async () => {
    const c = await loggedIn(0);
    await q(c, [
      '/ip/firewall/address-list/add',
      '=list=keep',
      '=address=203.0.113.7',
      '=comment=saved entry',
    ]);
    await q(c, ['/export', '=file=saved']);
    const ids = rows(await q(c, ['/ip/firewall/address-list/print', '?list=keep'])).map((r) => r['.id']);
    await q(c, ['/ip/firewall/address-list/remove', `=.id=${ids.join(',')}`]);
    await q(c, [
      '/system/script/add',
      '=name=revert',
      '=source=/ip firewall address-list remove [find]\n/import file-name=saved.rsc',
    ]);
    // /import of a whole export also re-adds other sections; keep only the address-list section for this check.
    const text = rows(await q(c, ['/file/print', '?name=saved.rsc']))[0]?.contents ?? '';
    const section = text.split('\n/').find((s) => s.startsWith('ip firewall address-list')) ?? '';
    await q(c, ['/file/set', '=.id=saved.rsc', `=contents=/${section}`]);
    expect(await q(c, ['/system/script/run', '=number=revert'])).toHaveLength(1);
    const restored = rows(await q(c, ['/ip/firewall/address-list/print', '?list=keep']));
    expect(restored.map((r) => [r.address, r.comment])).toEqual([['203.0.113.7', 'saved entry']]);
  });

  it('hides sensitive values in 7.x exports unless show-sensitive is given', async () => {
    const c = await loggedIn(0);
    await q(c, [
      '/interface/wireguard/add',
      '=name=wg0',
      '=private-key=SECRETKEYSECRETKEYSECRETKEYSECRETKEYSECRET=',
    ]);
    await q(c, ['/export', '=file=hidden']);
    await q(c, ['/export', '=file=shown', '=show-sensitive=']);
    const files = rows(await q(c, ['/file/print', '=.proplist=name,contents']));
    const hidden = files.find((f) => f.name === 'hidden.rsc')?.contents ?? '';
    const shown = files.find((f) => f.name === 'shown.rsc')?.contents ?? '';
    expect(hidden).toMatch(/^# .* by RouterOS 7\.16\.3\n# software id = /);
    expect(hidden).toContain('/interface wireguard\nadd name=wg0\n');
    expect(hidden).not.toContain('SECRETKEY');
    expect(shown).toContain('private-key="SECRETKEY');
  });
});

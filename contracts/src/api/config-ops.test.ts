import { describe, expect, it } from 'vitest';
import { CollectorCommand, CommandReply } from '../commands';
import { DeviceEvent } from '../events';
import {
  ApplyBody,
  Change,
  changesToCommands,
  cliToApiSentence,
  isSensitiveField,
  quoteValue,
} from './config-ops';

describe('changesToCommands', () => {
  it('writes add/set/remove/enable/disable/move in CLI form, addressing items by .id', () => {
    expect(
      changesToCommands([
        { action: 'add', path: '/ip/address', values: { address: '10.0.0.1/24', interface: 'ether2' } },
        { action: 'set', path: '/ip/address', id: '*3', values: { comment: 'uplink' } },
        { action: 'set', path: '/system/identity', values: { name: 'core-1' } },
        { action: 'remove', path: '/ip/firewall/filter', id: '*A' },
        { action: 'enable', path: '/interface', id: '*1' },
        { action: 'disable', path: '/ip/service', id: '*7' },
        { action: 'move', path: '/ip/firewall/filter', id: '*5', destination: '*2' },
        {
          action: 'add',
          path: '/ip/firewall/filter',
          values: { chain: 'input', action: 'drop' },
          destination: '*2',
        },
      ]),
    ).toEqual([
      '/ip address add address=10.0.0.1/24 interface=ether2',
      '/ip address set *3 comment=uplink',
      '/system identity set name=core-1',
      '/ip firewall filter remove *A',
      '/interface enable *1',
      '/ip service disable *7',
      '/ip firewall filter move *5 destination=*2',
      '/ip firewall filter add chain=input action=drop place-before=*2',
    ]);
  });

  it('quotes values with spaces, quotes, $, backslashes and newlines so they stay one value', () => {
    expect(quoteValue('plain-1.2/3')).toBe('plain-1.2/3');
    expect(quoteValue('two words')).toBe('"two words"');
    expect(quoteValue('say "hi"')).toBe('"say \\"hi\\""');
    expect(quoteValue('$var')).toBe('"\\$var"');
    expect(quoteValue('a\\b')).toBe('"a\\\\b"');
    expect(quoteValue('x\ny')).toBe('"x\\ny"');
    expect(quoteValue('')).toBe('""');
    expect(quoteValue('a;/system reboot')).toBe('"a;/system reboot"');
    const [line] = changesToCommands([
      { action: 'set', path: '/ip/address', id: '*1', values: { comment: 'a "b" $c; [d]' } },
    ]);
    expect(line).toBe('/ip address set *1 comment="a \\"b\\" \\$c; [d]"');
  });

  it('refuses changes without what they need', () => {
    expect(Change.safeParse({ action: 'remove', path: '/ip/address' }).success).toBe(false);
    expect(Change.safeParse({ action: 'move', path: '/ip/address', id: '*1' }).success).toBe(false);
    expect(Change.safeParse({ action: 'set', path: '/ip/address', id: '*1' }).success).toBe(false);
    expect(Change.safeParse({ action: 'add', path: 'ip address', values: { a: 'b' } }).success).toBe(false);
    expect(
      Change.safeParse({ action: 'set', path: '/ip/address', id: '[find]', values: { a: 'b' } }).success,
    ).toBe(false);
    expect(
      Change.safeParse({ action: 'set', path: '/ip/address', id: '*1', values: { 'a b': 'c' } }).success,
    ).toBe(false);
    expect(() => changesToCommands([{ action: 'enable', path: '/interface' } as Change])).toThrow();
  });
});

describe('cliToApiSentence', () => {
  it('is the inverse of changesToCommands', () => {
    const changes: Change[] = [
      { action: 'add', path: '/ip/address', values: { address: '10.0.0.1/24', comment: 'a "b" $c\nd' } },
      { action: 'set', path: '/system/identity', values: { name: 'my router' } },
      { action: 'move', path: '/ip/firewall/filter', id: '*5', destination: '*2' },
      { action: 'disable', path: '/ip/service', id: '*7' },
    ];
    expect(changesToCommands(changes).map(cliToApiSentence)).toEqual([
      { command: '/ip/address/add', args: { address: '10.0.0.1/24', comment: 'a "b" $c\nd' } },
      { command: '/system/identity/set', args: { name: 'my router' } },
      { command: '/ip/firewall/filter/move', args: { '.id': '*5', destination: '*2' } },
      { command: '/ip/service/disable', args: { '.id': '*7' } },
    ]);
  });

  it('returns null for anything that is not one simple command', () => {
    expect(cliToApiSentence('/ip address remove [find]')).toBeNull();
    expect(cliToApiSentence(':put $x')).toBeNull();
    expect(cliToApiSentence('add address=1.2.3.4/32')).toBeNull();
    expect(cliToApiSentence('/ip address add address=1; /system reboot')).toBeNull();
    expect(cliToApiSentence('/system/resource/print')).toEqual({
      command: '/system/resource/print',
      args: {},
    });
  });
});

describe('config-ops schemas', () => {
  it('takes either changes or a script', () => {
    expect(ApplyBody.safeParse({ mode: 'safe' }).success).toBe(false);
    expect(ApplyBody.safeParse({ mode: 'safe', script: '/x', changes: [] }).success).toBe(false);
    const b = ApplyBody.parse({ mode: 'safe', script: '/system identity set name=x' });
    expect(b.timeoutSeconds).toBe(300);
  });

  it('marks secrets', () => {
    expect(isSensitiveField('password')).toBe(true);
    expect(isSensitiveField('wpa2-pre-shared-key')).toBe(true);
    expect(isSensitiveField('private-key')).toBe(true);
    expect(isSensitiveField('address')).toBe(false);
    expect(isSensitiveField('public-key')).toBe(false);
  });

  it('parses commands and replies, and config-operation events', () => {
    const D = '3f0e9c1a-0000-4000-8000-000000000002';
    const O = '3f0e9c1a-0000-4000-8000-000000000003';
    const cmd = CollectorCommand.parse({
      op: 'config.apply',
      deviceId: D,
      operationId: O,
      commands: ['/x y'],
      mode: 'safe',
    });
    expect(cmd).toMatchObject({ script: false, timeoutSeconds: 300 });
    expect(CollectorCommand.safeParse({ op: 'rm -rf', deviceId: D }).success).toBe(false);
    expect(
      CommandReply.parse({ ok: false, error: { code: 'device_error', message: 'no such item' } }).ok,
    ).toBe(false);
    const ev = DeviceEvent.parse({
      v: 1,
      id: 'evt-0001-abcdef',
      tenantId: D,
      deviceId: D,
      collectorId: D,
      at: new Date().toISOString(),
      kind: 'config-operation',
      data: { operationId: O, state: 'pending-confirmation' },
    });
    expect(ev.kind).toBe('config-operation');
  });
});

import { describe, expect, it } from 'vitest';
import { maskCommand } from './config-operations';

describe('maskCommand', () => {
  it('masks secret values, bare or quoted, and leaves the rest', () => {
    expect(maskCommand('/user set *1 password=hunter2 comment="a b"')).toBe(
      '/user set *1 password=******** comment="a b"',
    );
    expect(maskCommand('/interface wifi security add name=s wpa2-pre-shared-key="my \\"key\\" here"')).toBe(
      '/interface wifi security add name=s wpa2-pre-shared-key=********',
    );
    expect(maskCommand('/ip address add address=10.0.0.1/24 interface=ether2')).toBe(
      '/ip address add address=10.0.0.1/24 interface=ether2',
    );
  });
});

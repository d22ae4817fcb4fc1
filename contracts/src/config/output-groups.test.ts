import { describe, expect, it } from 'vitest';
import { groupOutputs, normaliseOutput } from './output-groups';

describe('groupOutputs', () => {
  it('shows 200 devices with two distinct answers as two groups, largest first', () => {
    const items = Array.from({ length: 200 }, (_, i) => ({
      deviceId: `d${i}`,
      output: i % 4 === 0 ? 'version: 7.15.3\n' : 'version: 7.16.1\n',
    }));
    const groups = groupOutputs(items);
    expect(groups.map((g) => [g.output, g.deviceIds.length])).toEqual([
      ['version: 7.16.1', 150],
      ['version: 7.15.3', 50],
    ]);
    expect(groups[1]!.deviceIds.slice(0, 2)).toEqual(['d0', 'd4']);
  });

  it('treats trailing whitespace and line endings as equal, other differences not', () => {
    const groups = groupOutputs([
      { deviceId: 'a', output: 'name: r1  \r\nuptime: 1d\r\n\r\n' },
      { deviceId: 'b', output: 'name: r1\nuptime: 1d' },
      { deviceId: 'c', output: 'name:  r1\nuptime: 1d' },
    ]);
    expect(groups).toEqual([
      { output: 'name: r1\nuptime: 1d', deviceIds: ['a', 'b'] },
      { output: 'name:  r1\nuptime: 1d', deviceIds: ['c'] },
    ]);
  });

  it('keeps leading whitespace, which is meaningful in RouterOS tables', () => {
    expect(normaliseOutput('  0 ether1 \n')).toBe('  0 ether1');
  });
});

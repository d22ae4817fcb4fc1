import { describe, expect, it } from 'vitest';
import { matchesQuery, type Row } from './query';

const items: Row[] = [
  { name: 'ether1', type: 'ether', disabled: 'false' },
  { name: 'vlan10', type: 'vlan', disabled: 'true', comment: 'x' },
  { name: 'bridge', type: 'bridge', disabled: 'false' },
];
const names = (q: string[]) => items.filter((i) => matchesQuery(i, q)).map((i) => i.name);

describe('API queries', () => {
  it('ANDs plain conditions and accepts both equality spellings', () => {
    expect(names(['?type=ether'])).toEqual(['ether1']);
    expect(names(['?=type=vlan', '?=disabled=yes'])).toEqual(['vlan10']);
  });
  it('supports has / has-not', () => {
    expect(names(['?comment'])).toEqual(['vlan10']);
    expect(names(['?-comment'])).toEqual(['ether1', 'bridge']);
  });
  it('evaluates the documented ?# examples', () => {
    expect(names(['?type=ether', '?type=vlan', '?#|'])).toEqual(['ether1', 'vlan10']);
    expect(names(['?type=ether', '?type=vlan', '?#|!'])).toEqual(['bridge']);
    expect(names(['?>comment='])).toEqual(['vlan10']);
  });
  it('compares numbers numerically with ?< and ?>', () => {
    const rows = [{ d: '2' }, { d: '10' }];
    expect(rows.filter((r) => matchesQuery(r, ['?<d=5'])).map((r) => r.d)).toEqual(['2']);
    expect(rows.filter((r) => matchesQuery(r, ['?>d=5'])).map((r) => r.d)).toEqual(['10']);
  });
  it('treats an index at the end of ?# as replacing the stack', () => {
    expect(names(['?type=nothing', '?type=ether', '?#0'])).toEqual(['ether1']);
    expect(names(['?type=ether', '?#.!'])).toEqual([]);
  });
});

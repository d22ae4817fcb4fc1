import { describe, expect, it } from 'vitest';
import { escapeQuoted, renderTemplate, type TemplateVariable, TemplateVariables } from './template';

const v = (x: Partial<TemplateVariable> & Pick<TemplateVariable, 'name' | 'type'>): TemplateVariable =>
  TemplateVariables.parse([x])[0]!;

/** Splits a RouterOS script the way the interpreter does (statements at newline / `;` outside quotes,
 * tokens at spaces), with quoted strings unescaped: what a value could break out of. */
function parseScript(script: string): string[][] {
  const statements: string[][] = [];
  let cur: string[] = [];
  let tok = '';
  let quoted = false;
  for (let i = 0; i < script.length; i++) {
    const c = script[i]!;
    if (quoted) {
      if (c === '\\') {
        const n = script[++i]!;
        tok += n === 'n' ? '\n' : n === 'r' ? '\r' : n === 't' ? '\t' : n;
      } else if (c === '"') quoted = false;
      else tok += c;
    } else if (c === '"') quoted = true;
    else if (c === ' ' || c === '\n' || c === ';') {
      if (tok) cur.push(tok);
      tok = '';
      if (c !== ' ' && cur.length) {
        statements.push(cur);
        cur = [];
      }
    } else tok += c;
  }
  if (tok) cur.push(tok);
  if (cur.length) statements.push(cur);
  return statements;
}

describe('renderTemplate', () => {
  const vars = [
    v({ name: 'identity', type: 'string', fact: 'identity' }),
    v({ name: 'comment', type: 'string' }),
    v({ name: 'vlan', type: 'integer', min: 1, max: 4094 }),
    v({ name: 'address', type: 'cidr' }),
    v({ name: 'dns', type: 'ip', required: false }),
    v({ name: 'enabled', type: 'boolean', default: true }),
    v({ name: 'mode', type: 'enum', options: ['bridge', 'router'] }),
  ];
  const body = [
    '/system identity set name={{identity}}',
    '/interface vlan add name=vlan{{vlan}} vlan-id={{ vlan }} interface=ether1 comment="{{comment}} ({{mode}})"',
    '/ip address add address={{address}} interface=vlan{{vlan}} disabled={{enabled}}',
  ].join('\n');

  it('renders typed values, defaults and device facts', () => {
    const r = renderTemplate(body, vars, {
      values: { comment: 'uplink', vlan: 20, address: '10.0.20.1/24', mode: 'router' },
      facts: { identity: 'core-1' },
    });
    expect(r).toEqual({
      ok: true,
      script: [
        '/system identity set name=core-1',
        '/interface vlan add name=vlan20 vlan-id=20 interface=ether1 comment="uplink (router)"',
        '/ip address add address=10.0.20.1/24 interface=vlan20 disabled=yes',
      ].join('\n'),
    });
  });

  it('prefers device values over group values over facts over shared values', () => {
    const t = '{{identity}}';
    const iv = [vars[0]!];
    expect(renderTemplate(t, iv, { values: { identity: 's' }, facts: { identity: 'f' } })).toEqual({
      ok: true,
      script: 'f',
    });
    expect(
      renderTemplate(t, iv, {
        values: { identity: 's' },
        facts: { identity: 'f' },
        groupValues: [{ identity: 'g' }],
      }),
    ).toEqual({ ok: true, script: 'g' });
    expect(
      renderTemplate(t, iv, {
        facts: { identity: 'f' },
        groupValues: [{ identity: 'g' }],
        deviceValues: { identity: 'd' },
      }),
    ).toEqual({ ok: true, script: 'd' });
  });

  it('reports every missing required variable', () => {
    const r = renderTemplate(body, vars, { values: { comment: 'x' } });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.errors.filter((e) => e.code === 'missing').map((e) => e.variable)).toEqual([
      'identity',
      'vlan',
      'address',
      'mode',
    ]);
    expect(r.errors.find((e) => e.variable === 'identity')!.message).toMatch(/no identity/);
  });

  it('refuses values of the wrong type', () => {
    const r = renderTemplate(body, vars, {
      values: {
        identity: 'r',
        comment: 'c',
        vlan: '4095',
        address: '10.0.0.300/24',
        mode: 'switch',
        dns: 'x',
        enabled: 'maybe',
      },
    });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(Object.fromEntries(r.errors.map((e) => [e.variable, e.code]))).toEqual({
      vlan: 'invalid',
      address: 'invalid',
      mode: 'invalid',
      dns: 'invalid',
      enabled: 'invalid',
    });
    expect(
      renderTemplate('{{n}}', [v({ name: 'n', type: 'integer' })], { values: { n: '1; /system reboot' } }).ok,
    ).toBe(false);
    expect(renderTemplate('{{a}}', [v({ name: 'a', type: 'ip' })], { values: { a: '2001:db8::1' } })).toEqual(
      {
        ok: true,
        script: '2001:db8::1',
      },
    );
  });

  it('reports placeholders that are not declared', () => {
    const r = renderTemplate('set name={{nope}}', [], {});
    expect(r).toEqual({
      ok: false,
      errors: [
        { variable: 'nope', code: 'unknown_placeholder', message: '{{nope}} is not a declared variable' },
      ],
    });
  });

  const hostile = [
    'x" disabled=yes comment="',
    'a; /system reboot',
    'line1\n/user add name=evil group=full password=x',
    '[/system reboot]',
    '$[/system reboot]',
    'back\\slash\\',
    'tab\tand\rcr',
  ];

  it.each(hostile)('keeps %j inside one quoted value', (value) => {
    const t = '/interface set ether1 comment="{{c}}"';
    const r = renderTemplate(t, [v({ name: 'c', type: 'string' })], { values: { c: value } });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.script).not.toMatch(/[\n\r]/);
    expect(r.script).not.toMatch(/(^|[^\\])\$/);
    expect(parseScript(r.script)).toEqual([['/interface', 'set', 'ether1', `comment=${value}`]]);
  });

  it.each(hostile)('quotes %j used outside quotes so it stays one value', (value) => {
    const t = '/system identity set name={{c}}';
    const r = renderTemplate(t, [v({ name: 'c', type: 'string' })], { values: { c: value } });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(parseScript(r.script)).toEqual([['/system', 'identity', 'set', `name=${value}`]]);
  });

  it('escapes what RouterOS interprets inside quotes', () => {
    expect(escapeQuoted('a"b\\c$d\ne')).toBe('a\\"b\\\\c\\$d\\ne');
  });

  it('renders an optional empty value as an empty quoted string outside quotes', () => {
    expect(renderTemplate('comment={{c}}', [v({ name: 'c', type: 'string', required: false })], {})).toEqual({
      ok: true,
      script: 'comment=""',
    });
  });
});

describe('placeholders', () => {
  it('finds undeclared placeholders after a render (no regex state leaks between calls)', async () => {
    const { undeclaredPlaceholders } = await import('./template');
    renderTemplate('a {{x}} b {{x}}', [v({ name: 'x', type: 'string' })], { values: { x: 'y' } });
    expect(undeclaredPlaceholders('set name={{ghost}}', [])).toEqual(['ghost']);
  });
});

// Configuration templates (issue #8): a RouterOS script with `{{ name }}` placeholders and typed variables.
// Rendering is pure and shared by the edge (preview, batches) and the portal (live preview in the editor).
// A value can never break out of where it is placed: inside a quoted RouterOS string it is escaped
// (`\"`, `\\`, `\n`, `\r`, `\t`, `\$`); anywhere else a value that is not a plain token (letters, digits,
// `. _ : / , + -`) is emitted as a quoted, escaped string. So `"`, `;`, a newline, `$` or `[` in a value stay
// part of that one value.
import { z } from 'zod';

export const TemplateVariableType = z.enum(['string', 'integer', 'boolean', 'ip', 'cidr', 'enum']);
export type TemplateVariableType = z.infer<typeof TemplateVariableType>;

/** Device facts a variable can take its value from. */
export const DeviceFact = z.enum([
  'identity',
  'model',
  'serial',
  'managementIp',
  'site',
  'routerosVersion',
  'boardName',
]);
export type DeviceFact = z.infer<typeof DeviceFact>;
export type DeviceFacts = Partial<Record<DeviceFact, string | null>>;

export const TemplateValue = z.union([z.string().max(4096), z.number(), z.boolean()]);
export type TemplateValue = z.infer<typeof TemplateValue>;

export const VARIABLE_NAME = /^[A-Za-z][A-Za-z0-9_]{0,62}$/;

export const TemplateVariable = z
  .strictObject({
    name: z.string().regex(VARIABLE_NAME, 'letters, digits and _, starting with a letter'),
    type: TemplateVariableType,
    label: z.string().max(200).optional(),
    description: z.string().max(1000).optional(),
    /** A required variable without value and default is an error; an optional one renders as empty. */
    required: z.boolean().default(true),
    default: TemplateValue.optional(),
    /** enum: the allowed values. */
    options: z.array(z.string().min(1).max(200)).max(100).optional(),
    /** integer bounds. */
    min: z.number().int().optional(),
    max: z.number().int().optional(),
    /** Taken from the device (identity, management IP, ...) unless a value is given for the device. */
    fact: DeviceFact.optional(),
  })
  .refine((v) => v.type !== 'enum' || (v.options?.length ?? 0) > 0, {
    message: 'an enum variable needs options',
    path: ['options'],
  });
export type TemplateVariable = z.infer<typeof TemplateVariable>;

export const TemplateVariables = z
  .array(TemplateVariable)
  .max(100)
  .refine((vs) => new Set(vs.map((v) => v.name)).size === vs.length, 'variable names must be unique');

export type TemplateValues = Record<string, TemplateValue>;

/** Values for one render, most specific first: the device's own, its groups', then the shared ones. */
export interface RenderInput {
  values?: TemplateValues;
  groupValues?: TemplateValues[];
  deviceValues?: TemplateValues;
  facts?: DeviceFacts;
}

export interface TemplateError {
  variable: string | null;
  code: 'missing' | 'invalid' | 'unknown_placeholder';
  message: string;
}

export type RenderResult = { ok: true; script: string } | { ok: false; errors: TemplateError[] };

const PLACEHOLDER = /\{\{\s*([A-Za-z][A-Za-z0-9_]*)\s*\}\}/g;
/** The same, anchored at lastIndex, for the render loop (a separate object: matchAll copies lastIndex). */
const PLACEHOLDER_AT = /\{\{\s*([A-Za-z][A-Za-z0-9_]*)\s*\}\}/y;

/** The placeholders a body uses, in order of first use. */
export function placeholdersOf(body: string): string[] {
  return [...new Set([...body.matchAll(PLACEHOLDER)].map((m) => m[1]!))];
}

/** Placeholders with no variable declared for them (a template with any cannot be saved). */
export function undeclaredPlaceholders(body: string, variables: readonly TemplateVariable[]): string[] {
  const names = new Set(variables.map((v) => v.name));
  return placeholdersOf(body).filter((p) => !names.has(p));
}

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const IPV6 = /^[0-9a-fA-F:]+(:(\d{1,3}\.){3}\d{1,3})?$/;

function isIpv6(s: string): boolean {
  if (!IPV6.test(s) || !s.includes(':')) return false;
  const doubles = s.split('::').length - 1;
  if (doubles > 1) return false;
  const groups = s.split(':').filter((g) => g !== '');
  if (groups.some((g) => !g.includes('.') && g.length > 4)) return false;
  return doubles === 1 ? groups.length <= 7 : groups.length === 8 || (groups.length === 7 && s.includes('.'));
}

function ipVersion(s: string): 4 | 6 | null {
  if (IPV4.test(s)) return 4;
  if (isIpv6(s)) return 6;
  return null;
}

/** A value checked against its variable's type, as the text it renders to; or why it is not valid. */
export function coerceValue(
  v: TemplateVariable,
  raw: TemplateValue,
): { ok: true; text: string } | { ok: false; message: string } {
  const bad = (message: string) => ({ ok: false as const, message });
  switch (v.type) {
    case 'string': {
      if (typeof raw !== 'string') return bad('must be a string');
      if (raw.includes('\0')) return bad('must not contain NUL characters');
      return { ok: true, text: raw };
    }
    case 'integer': {
      const s = typeof raw === 'number' ? String(raw) : typeof raw === 'string' ? raw.trim() : '';
      if (!/^-?\d{1,15}$/.test(s)) return bad('must be a whole number');
      const n = Number(s);
      if (v.min !== undefined && n < v.min) return bad(`must be at least ${v.min}`);
      if (v.max !== undefined && n > v.max) return bad(`must be at most ${v.max}`);
      return { ok: true, text: String(n) };
    }
    case 'boolean': {
      if (raw === true || raw === 'true' || raw === 'yes') return { ok: true, text: 'yes' };
      if (raw === false || raw === 'false' || raw === 'no') return { ok: true, text: 'no' };
      return bad('must be true or false');
    }
    case 'ip': {
      if (typeof raw !== 'string' || ipVersion(raw.trim()) === null)
        return bad('must be an IPv4 or IPv6 address');
      return { ok: true, text: raw.trim() };
    }
    case 'cidr': {
      const m = typeof raw === 'string' ? raw.trim().match(/^([^/]+)\/(\d{1,3})$/) : null;
      const version = m ? ipVersion(m[1]!) : null;
      if (!m || version === null || Number(m[2]) > (version === 4 ? 32 : 128))
        return bad('must be an address with a prefix length, like 10.0.0.1/24');
      return { ok: true, text: raw.toString().trim() };
    }
    case 'enum': {
      const s = String(raw);
      if (!v.options?.includes(s)) return bad(`must be one of ${(v.options ?? []).join(', ')}`);
      return { ok: true, text: s };
    }
  }
}

/** Escapes text for the inside of a double-quoted RouterOS string. */
export function escapeQuoted(text: string): string {
  return text.replace(/[\\"$\n\r\t]/g, (c) =>
    c === '\n' ? '\\n' : c === '\r' ? '\\r' : c === '\t' ? '\\t' : `\\${c}`,
  );
}

const BARE = /^[A-Za-z0-9._:/,+-]+$/;

/** A value for a position outside quotes: a plain token as it is, anything else quoted. */
export function routerOsValue(text: string): string {
  return BARE.test(text) ? text : `"${escapeQuoted(text)}"`;
}

function resolve(v: TemplateVariable, input: RenderInput): TemplateValue | undefined {
  if (input.deviceValues && v.name in input.deviceValues) return input.deviceValues[v.name];
  for (const g of input.groupValues ?? []) if (v.name in g) return g[v.name];
  if (v.fact) {
    const fact = input.facts?.[v.fact];
    if (fact !== undefined && fact !== null && fact !== '') return fact;
  }
  if (input.values && v.name in input.values) return input.values[v.name];
  return v.default;
}

/** Renders a template for one device; every problem is reported, not only the first. */
export function renderTemplate(
  body: string,
  variables: readonly TemplateVariable[],
  input: RenderInput,
): RenderResult {
  const errors: TemplateError[] = [];
  const texts = new Map<string, string>();
  for (const v of variables) {
    const raw = resolve(v, input);
    if (raw === undefined || raw === '') {
      if (v.required) {
        errors.push({
          variable: v.name,
          code: 'missing',
          message: v.fact
            ? `${v.name}: no value and the device has no ${v.fact}`
            : `${v.name}: a value is required`,
        });
        continue;
      }
      texts.set(v.name, '');
      continue;
    }
    const c = coerceValue(v, raw);
    if (c.ok) texts.set(v.name, c.text);
    else errors.push({ variable: v.name, code: 'invalid', message: `${v.name}: ${c.message}` });
  }
  for (const p of undeclaredPlaceholders(body, variables)) {
    errors.push({ variable: p, code: 'unknown_placeholder', message: `{{${p}}} is not a declared variable` });
  }
  if (errors.length > 0) return { ok: false, errors };

  // One pass over the body, knowing at each placeholder whether it stands inside a quoted string.
  let out = '';
  let inQuotes = false;
  let i = 0;
  while (i < body.length) {
    const c = body[i]!;
    if (c === '{' && body[i + 1] === '{') {
      PLACEHOLDER_AT.lastIndex = i;
      const m = PLACEHOLDER_AT.exec(body);
      if (m) {
        const text = texts.get(m[1]!) ?? '';
        out += inQuotes ? escapeQuoted(text) : routerOsValue(text);
        i += m[0].length;
        continue;
      }
    }
    if (c === '\\' && inQuotes) {
      out += body.slice(i, i + 2);
      i += 2;
      continue;
    }
    if (c === '"') inQuotes = !inQuotes;
    out += c;
    i++;
  }
  return { ok: true, script: out };
}

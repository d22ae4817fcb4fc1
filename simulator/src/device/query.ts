// API query evaluation (PROTOCOL.md §6): a boolean stack over `?` words, applied per item of a print.

export type Row = Record<string, string>;

const truthy = (v: string) => (v === 'yes' ? 'true' : v === 'no' ? 'false' : v);

function compare(a: string, b: string): number {
  const na = Number(a);
  const nb = Number(b);
  if (a !== '' && b !== '' && Number.isFinite(na) && Number.isFinite(nb)) return na - nb;
  if (a.startsWith('*') && b.startsWith('*'))
    return Number.parseInt(a.slice(1), 16) - Number.parseInt(b.slice(1), 16);
  return a < b ? -1 : a > b ? 1 : 0;
}

export class QueryError extends Error {}

export function matchesQuery(row: Row, words: readonly string[]): boolean {
  const stack: boolean[] = [];
  const at = (i: number): boolean => (i < stack.length ? (stack[stack.length - 1 - i] as boolean) : true);
  const pop = (): boolean => (stack.length ? (stack.pop() as boolean) : true);
  for (const w of words) {
    if (w.startsWith('?#')) {
      const ops = w.slice(2);
      let i = 0;
      let lastWasIndex = false;
      while (i < ops.length) {
        const c = ops[i] as string;
        if (c >= '0' && c <= '9') {
          let j = i;
          while (j < ops.length && (ops[j] as string) >= '0' && (ops[j] as string) <= '9') j++;
          const idx = Number(ops.slice(i, j));
          const v = at(idx);
          if (j >= ops.length) {
            stack.length = 0;
            stack.push(v);
          } else stack.push(v);
          i = j;
          lastWasIndex = true;
          continue;
        }
        if (c === '!') stack.push(!pop());
        else if (c === '&') {
          const a = pop();
          const b = pop();
          stack.push(a && b);
        } else if (c === '|') {
          const a = pop();
          const b = pop();
          stack.push(a || b);
        } else if (c === '.') {
          if (!lastWasIndex) stack.push(at(0));
        } else throw new QueryError('unknown query operation');
        lastWasIndex = false;
        i++;
      }
    } else if (w.startsWith('?-')) {
      stack.push(!(w.slice(2) in row));
    } else if (w.startsWith('?<') || w.startsWith('?>')) {
      const body = w.slice(2);
      const eq = body.indexOf('=');
      const k = eq < 0 ? body : body.slice(0, eq);
      const v = eq < 0 ? '' : body.slice(eq + 1);
      const have = row[k];
      if (have === undefined) stack.push(false);
      else stack.push(w[1] === '<' ? compare(have, v) < 0 : compare(have, v) > 0);
    } else {
      let body = w.slice(1);
      if (body.startsWith('=')) body = body.slice(1);
      const eq = body.indexOf('=');
      if (eq < 0) stack.push(body in row);
      else {
        const k = body.slice(0, eq);
        const have = row[k];
        stack.push(have !== undefined && truthy(have) === truthy(body.slice(eq + 1)));
      }
    }
  }
  return !stack.includes(false);
}

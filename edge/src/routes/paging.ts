// Keyset paging for the lists ordered by a text column (name, email) and id: the cursor names the last row
// of the previous page, so every page costs the same however deep it is.
import type { NameListQuery } from '@tod/contracts';
import { type AnyColumn, type SQL, sql } from 'drizzle-orm';
import { ApiError } from '../errors';
import { decodeCursor, encodeCursor } from './dto';

function escapeLike(s: string): string {
  return s.replace(/[\\%_]/g, (ch) => '\\' + ch);
}

/** WHERE fragments for the cursor and the prefix filter. */
export function nameFilters(q: NameListQuery, name: AnyColumn, id: AnyColumn): SQL[] {
  const out: SQL[] = [];
  if (q.q) out.push(sql`${name} ILIKE ${escapeLike(q.q) + '%'}`);
  if (q.cursor) {
    const cur = decodeCursor(q.cursor);
    if (!cur) throw new ApiError(400, 'invalid_request', 'invalid cursor');
    out.push(sql`(${name}, ${id}) > (${cur[0]}, ${cur[1]}::uuid)`);
  }
  return out;
}

export function pageOf<T, D>(
  rows: T[],
  limit: number,
  key: (row: T) => [string, string],
  dto: (row: T) => D,
): { items: D[]; nextCursor: string | null } {
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  return {
    items: page.map(dto),
    nextCursor: rows.length > limit && last ? encodeCursor(...key(last)) : null,
  };
}

// Shared pieces of list endpoints: keyset pages and ids.
import { z } from 'zod';

export const Id = z.uuid();
export const IdParam = z.strictObject({ id: z.uuid() });

export const PageQuery = {
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().max(512).optional(),
};

export const Page = <T extends z.ZodType>(item: T) =>
  z.object({ items: z.array(item), nextCursor: z.string().nullable() });

/** Lists ordered by name (or email): keyset pages and a name prefix filter. */
export const NameListQuery = z.strictObject({
  ...PageQuery,
  q: z.string().max(200).optional(),
});
export type NameListQuery = z.infer<typeof NameListQuery>;

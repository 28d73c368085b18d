import { writeFile } from 'node:fs/promises';
import * as z from 'zod/mini';
import { RoutesFileSchema } from '#lib/routes/schema.ts';

/** The JSON Schema for routes files, from the same definition that validates them at cold start. */
export const routesJsonSchema = (): string =>
  `${JSON.stringify(
    {
      ...z.toJSONSchema(RoutesFileSchema, { io: 'input', unrepresentable: 'any' }),
      title: 'Routes file for temporal-aws-triggers',
    },
    null,
    2,
  )}\n`;

if (import.meta.main) {
  await writeFile('routes.schema.json', routesJsonSchema());
  console.log('wrote routes.schema.json');
}

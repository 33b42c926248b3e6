import type { z } from 'zod';
import { TsswarmError } from '../errors/index.js';

/**
 * Validates a component's config against its zod schema, filling defaults. Throws
 * CONFIG_INVALID naming every bad field, so a misconfiguration is reported in one go.
 */
export function parseConfig<S extends z.ZodType>(component: string, schema: S, input: unknown): z.output<S> {
  const result = schema.safeParse(input ?? {});
  if (result.success) return result.data;
  const problems = result.error.issues
    .map((issue) => `${issue.path.length > 0 ? issue.path.join('.') : '(root)'}: ${issue.message}`)
    .join('; ');
  throw new TsswarmError('CONFIG_INVALID', { component, problems });
}

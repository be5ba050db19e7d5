// The zod pieces scenario fields are made of (a duration, a count, a share), built from the zod the
// caller passes in: src/scenario/schema.ts and each arrival shape (src/schedule/*.ts) use the same
// pieces, and a shape file imports zod only as a type, so the k6 script can load it too.
import type { z as zod } from 'zod';
import { DURATION_PATTERN } from './duration.ts';

/** zod's namespace, as `import { z } from 'zod'` gives it. */
export type Zod = typeof zod;

const DURATION_MESSAGE = 'must be a duration: milliseconds, or a string like "500ms", "11.9s", "2m"';

export function scenarioFields(z: Zod) {
  const duration = z
    .union([z.number().nonnegative(), z.string().regex(DURATION_PATTERN, { error: DURATION_MESSAGE })], { error: DURATION_MESSAGE })
    .meta({ description: 'Milliseconds, or a string with a unit: "500ms", "11.9s", "2m", "1h".' });
  return {
    duration,
    count: z.int().nonnegative(),
    positiveCount: z.int().positive(),
    share: z.number().min(0).max(1),
    /** The period a rate counts per (k6's timeUnit). */
    timeUnit: duration.default('1s').meta({ description: 'The period `rate` and stage `target`s count per (k6: timeUnit).' }),
  };
}

/** A duration as a scenario writes it: milliseconds, or a string with a unit. */
export type Duration = number | string;

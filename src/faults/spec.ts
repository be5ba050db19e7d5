// What every fault in a scenario's `faults` list has in common: `at` (when it hits, counted from the
// sale's opening, as the interval series and the summary count time), and the duration type. Each kind
// of fault adds its own fields in its own file (kill-service.ts, exec.ts, network.ts, …).
import { z } from 'zod';
import { DURATION_PATTERN, durationMs } from '../common/duration.ts';

const DURATION_MESSAGE = 'must be a duration: milliseconds, or a string like "500ms", "3s", "2m"';

/** A duration as scenarios write them (ms, or "500ms", "3s", "2m"), kept as written. */
export const duration = z
  .union([z.number().nonnegative(), z.string().regex(DURATION_PATTERN, { error: DURATION_MESSAGE })], { error: DURATION_MESSAGE })
  .meta({ description: 'Milliseconds, or a string with a unit: "500ms", "3s", "2m".' });

export const at = duration.meta({ description: "When the fault hits, counted from the sale's opening (the first intended request)." });

export const downFor = duration.meta({ description: 'How long the fault lasts: the heal (restart, toxic removed, heal command) starts this long after it hit.' });

export { durationMs };

/** The action fields: each fault has exactly one, and it says which kind the fault is. */
export const ACTIONS = ['kill', 'exec', 'network', 'restart', 'stop'] as const;

// The words every part of flashsale shares, declared once: a journey's steps, an answer's outcomes,
// the journeys, and why a run stops. The load engine counts by index on its hot path (a step or an
// outcome is a small integer there); the index constants below are the positions in these lists.
// Imports nothing: every folder may import it.

/** A journey's steps, in journey order (tables read reserve before pay). */
export const STEPS = ['checkout', 'reserve', 'pay'] as const;
export type Step = (typeof STEPS)[number];
/** Step indexes, positions in STEPS. */
export const CHECKOUT = 0;
export const RESERVE = 1;
export const PAY = 2;

/** success: the step did what it asked; sold_out: the target said no stock; rejected: any other
 * refusal the target answered on purpose (limit, not open, expired, declined); error: 5xx, 503,
 * connection errors, timeouts. */
export const OUTCOMES = ['success', 'sold_out', 'rejected', 'error'] as const;
export type Outcome = (typeof OUTCOMES)[number];
/** Outcome indexes, positions in OUTCOMES. */
export const SUCCESS = 0;
export const SOLD_OUT = 1;
export const REJECTED = 2;
export const ERROR = 3;

/** A count per outcome, all zero. */
export function zeroPerOutcome(): Record<Outcome, number> {
  return { success: 0, sold_out: 0, rejected: 0, error: 0 };
}

/** checkout: one request buys. reserve-pay: a hold, then a payment. */
export const JOURNEYS = ['checkout', 'reserve-pay'] as const;
export type JourneyType = (typeof JOURNEYS)[number];

/** The steps a journey walks through, in order. */
export function stepsOf(journey: JourneyType): Step[] {
  return journey === 'checkout' ? ['checkout'] : ['reserve', 'pay'];
}

/** Why a run ended. target_down: `run --service-processes` stopped the crowd early because every service
 * process had ended (none restarting): the load engine itself never says it. */
export const STOP_REASONS = ['completed', 'sold_out', 'max_duration', 'max_requests', 'interrupted', 'target_down'] as const;
export type StopReason = (typeof STOP_REASONS)[number];

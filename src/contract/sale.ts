// The sale the built-in service runs, as the scenario (src/scenario/to-sale.ts) and the service
// (src/service/sale.ts validates it) both know it, and what a person writes for "no per-user limit".

/** How "no per-user limit" is written wherever a person writes a sale (scenario, flag, file, HTTP). */
export const NO_LIMIT = 'none';

/** The longest user id the built-in service accepts, in UTF-8 bytes (its reservation table's slot). */
export const MAX_USER_ID_BYTES = 128;

export interface SaleDefinition {
  skus: Array<{ id: string; stock: number }>;
  /** Units per user id across the sale; 0 turns the limit (and the per-user table) off (written "none"). */
  perUserLimit: number;
  reservationTtlMs: number;
  /** null = open now. */
  opensAtEpochMs: number | null;
  /** Simulated payment on POST /orders and /checkout. */
  payment: { declineRate: number; latencyMs: number };
}

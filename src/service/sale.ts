// The sale a service runs: validated once, with messages that name the field, whether it comes from
// startService(), a --sale file or POST /admin/sale.
import { z } from 'zod';
import { UsageError } from '../errors.ts';
import { NO_LIMIT, type SaleDefinition } from '../contract/sale.ts';

export { NO_LIMIT, type SaleDefinition };


const INT32_MAX = 2 ** 31 - 1;

const saleSchema = z
  .object({
    skus: z
      .array(
        z.object({
          id: z.string().min(1).max(64).regex(/^[A-Za-z0-9._~-]+$/, 'letters, digits and . _ ~ - only (it goes in URLs)'),
          stock: z.number().int().min(0).max(INT32_MAX),
        }),
      )
      .min(1),
    perUserLimit: z.number().int().min(0).max(INT32_MAX),
    reservationTtlMs: z.number().int().min(1).max(INT32_MAX),
    opensAtEpochMs: z.number().int().min(0).nullable(),
    payment: z.object({
      declineRate: z.number().min(0).max(1),
      latencyMs: z.number().min(0).max(60_000),
    }),
  })
  .superRefine((sale, ctx) => {
    const seen = new Set<string>();
    sale.skus.forEach((s, i) => {
      if (seen.has(s.id)) ctx.addIssue({ code: 'custom', path: ['skus', i, 'id'], message: `duplicate SKU id "${s.id}"` });
      seen.add(s.id);
    });
  });

/**
 * A sale as a person wrote it (a --sale file, POST /admin/sale) → the service's own spelling: "none"
 * becomes 0 (the table off). A written 0 is refused: it reads as "nobody may buy", so it must be said
 * as "none". Anything else passes through for the schema to judge.
 */
export function fromWrittenSale(value: Record<string, unknown>): { value: Record<string, unknown>; issues: string[] } {
  if (!Object.hasOwn(value, 'perUserLimit')) return { value, issues: [] };
  if (value.perUserLimit === NO_LIMIT) return { value: { ...value, perUserLimit: 0 }, issues: [] };
  if (value.perUserLimit === 0) return { value, issues: [`perUserLimit: 0 is not a limit; write "${NO_LIMIT}" for no per-user limit`] };
  return { value, issues: [] };
}

/** Issues as "field.path: message" lines; empty when the value is a valid sale. */
export function saleIssues(value: unknown): string[] {
  const r = saleSchema.safeParse(value);
  if (r.success) return [];
  return r.error.issues.map((i) => `${i.path.length ? i.path.join('.') : '(sale)'}: ${i.message}`);
}

/** Validates and returns a clean copy (unknown fields dropped); throws UsageError naming each field. */
export function parseSale(value: unknown, source = 'sale'): SaleDefinition {
  const r = saleSchema.safeParse(value);
  if (!r.success) {
    const issues = r.error.issues.map((i) => `${i.path.length ? i.path.join('.') : '(sale)'}: ${i.message}`);
    throw new UsageError(`invalid ${source}:\n  ${issues.join('\n  ')}`);
  }
  return r.data;
}

/**
 * What a restart compares to decide whether the ledger's latest sale is the same sale (continue it,
 * rebuilding stock from its orders) or a new one: SKUs, stock and the per-user limit.
 */
export function saleIdentity(sale: SaleDefinition): string {
  return JSON.stringify({ skus: sale.skus.map((s) => [s.id, s.stock]), perUserLimit: sale.perUserLimit });
}

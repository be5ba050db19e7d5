// The post-run audit: fetch the target's view, reconcile it with the client's, report what broke.
export { acknowledgedUnits, auditRun, describeAuditFailures, distinctById, knownLostOrders, MAX_OFFENDING_LISTED } from './audit.ts';
export type { AuditInput } from './audit.ts';
export { AUDIT_BUDGET_MS, fetchAuditInputs, parseLedgerNdjson } from './fetch.ts';
export type { AuditInputs, FetchAuditOptions } from './fetch.ts';
export { checkTargetSale, PREFLIGHT_BUDGET_MS } from './preflight.ts';

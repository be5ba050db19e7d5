// The post-run audit: fetch the target's view, reconcile it with the client's, report what broke.
export { auditRun, describeAuditFailures, MAX_OFFENDING_LISTED } from './audit.ts';
export type { AuditInput } from './audit.ts';
export { fetchAuditInputs, parseLedgerNdjson } from './fetch.ts';
export type { AuditInputs } from './fetch.ts';

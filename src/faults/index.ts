// Faults during the sale (#15): the `faults` list's schema and checks, the kinds, the scheduler that fires
// them, the per-fault record and its impact, the built-in service as a killable process, Toxiproxy.
export { FaultsSchema, FaultSchema, FAULT_KINDS, kindOf, MAX_FAULTS } from './kinds.ts';
export type { FaultSpec, FaultSpecInput } from './kinds.ts';
export type { ActiveFault, FaultContext, FaultKind, FaultSetting, ServiceUnderFault } from './kind.ts';
export { checkFaults, validateFaults } from './validate.ts';
export { scheduleFaults } from './scheduler.ts';
export type { FaultSchedule, ScheduleOptions } from './scheduler.ts';
export type { FaultRecord, FaultStatus } from './record.ts';
export { faultImpact, withImpact } from './impact.ts';
export type { FaultImpact, FaultSeries, Range } from './impact.ts';
export { builtInServe, ServiceProcess } from './service-process.ts';
export type { BuiltInServeOptions, ServiceProcessOptions, StartInfo, UnexpectedExit } from './service-process.ts';
export { FaultError } from '../errors.ts';
export { ToxiproxyClient, ToxiproxyError } from './toxiproxy/client.ts';
export { findToxiproxyServer, startToxiproxy } from './toxiproxy/server.ts';

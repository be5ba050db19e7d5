// Scenario files: schema, loading (file or preset), and what they become (LoadPlan, SaleDefinition).
export { ScenarioSchema, NO_LIMIT, MAX_NAME_LENGTH } from './schema.ts';
export type { Scenario, ScenarioInput } from './schema.ts';
export { validateScenario } from './validate.ts';
export { loadScenario, parseScenarioText } from './load.ts';
export type { LoadedScenario } from './load.ts';
export { presetNames, resolveScenarioPath, PRESETS_DIR } from './presets.ts';
export { toLoadPlan, toArrivalSpec, toTargetSpec } from './to-load-plan.ts';
export type { ToLoadPlanOptions } from './to-load-plan.ts';
export { toSaleDefinition, stockOf, perUserLimitOf } from './to-sale.ts';
export type { SaleDefinition } from './to-sale.ts';
export { resolveOpensAt } from './opens-at.ts';
export { durationMs } from '../common/duration.ts';
export { describeArrival, summarizeScenario } from './describe.ts';
export type { ScenarioSummary } from './describe.ts';
export { k6CommandLine, K6_SCRIPT } from './k6-command.ts';
export { refuseFaults } from './no-faults.ts';

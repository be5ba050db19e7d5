// Everything `flashsale plan` uses from the rest of flashsale, in one place: when one of their public
// APIs moves, this is the file to re-point, and nothing else in src/plan/ imports from outside src/plan/.
export { runLoad } from '../load/index.ts';
export type { LoadPlan } from '../load/index.ts';
export type { ArrivalSpec, JourneySpec } from '../contract/load-plan.ts';
export { stepsOf, type JourneyType, type Step } from '../contract/vocabulary.ts';
export { arrivalShape, createArrivals, isFlashCrowd, type ArrivalStream } from '../schedule/index.ts';
export { mulberry32, deriveSeed, type Rng } from '../common/random.ts';

export { startService, type RunningService } from '../service/index.ts';

export { loadScenario, toArrivalSpec, toLoadPlan, toSaleDefinition, stockOf, durationMs } from '../scenario/index.ts';
export type { LoadedScenario, Scenario, SaleDefinition } from '../scenario/index.ts';

export { evaluateThresholds, parseMetricKey, parseThreshold, describeCrossed, describeThreshold } from '../thresholds/index.ts';
export { judge } from '../judge/judge.ts';
export type { ThresholdsSpec } from '../thresholds/index.ts';

export { createLatencyHistogram, decodeHistogram, encodeHistogram, mergeEncoded, percentilesMs } from '../common/histogram.ts';
export type { Histogram, LatencySummaryMs } from '../common/histogram.ts';
export { StagedHistogram } from '../measure/staged-histogram.ts';
export { mergeLoadResults } from '../measure/merge.ts';

export type { LoadResult, ThresholdResult, Environment, RunResult, StepLatency } from '../contract/result.ts';
export { describeEnvironment } from '../run/environment.ts';

export { parseResult } from '../report/read.ts';
export { count, duration, ms, rate, percent } from '../common/format.ts';
export { chartPanel, escapeHtml, renderPage, value as htmlValue } from '../report/html/page.ts';
export { alignPoints, PALETTE, type ChartSpec } from '../report/html/chart-spec.ts';

export { EXIT, FlashsaleError, messageOf, PlanFileError, ThresholdSyntaxError, UsageError } from '../errors.ts';

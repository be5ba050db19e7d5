// The scenario file format, as one zod schema: validation at load time and the shipped JSON Schema
// (scenarios/scenario.schema.json) both come from here, so they cannot disagree. Every object is
// strict: a misspelt field is an error, never silently ignored. Durations stay as written ("11.9s")
// and are converted when the scenario becomes a LoadPlan, so the JSON Schema describes the input.
import { z } from 'zod';
import { JOURNEYS } from '../contract/vocabulary.ts';
import { NO_LIMIT } from '../contract/sale.ts';
import { scenarioFields } from '../common/scenario-fields.ts';
import { BUYER_DEFAULTS as B, LOAD_DEFAULTS as L, TEMPLATE_DEFAULTS as T } from './defaults.ts';
import { arrivalSchema } from '../schedule/index.ts';
import { isOpensAt, OPENS_AT_PATTERN } from './opens-at.ts';
import { FaultsSchema } from '../faults/kinds.ts';

const { duration, count, positiveCount, share } = scenarioFields(z);

/** A run's results go to reports/<name>-<UTC time>/, so a name must make a folder name on any system. */
export const MAX_NAME_LENGTH = 100;
const slug = z
  .string()
  .regex(/^[a-z0-9][a-z0-9._-]*$/, { error: 'must be lower-case letters, digits, ".", "_" or "-", starting with a letter or digit (it names the results folder)' })
  .max(MAX_NAME_LENGTH, { error: `must be at most ${MAX_NAME_LENGTH} characters (it names the results folder, reports/<name>-<time>/)` });

/** "none", or a whole number ≥ 1: the one way to write "no per-user limit", here and on the command line. */
export { NO_LIMIT };
const LIMIT_MESSAGE = `must be a whole number ≥ 1, or "${NO_LIMIT}" for no per-user limit`;
// As the built-in service accepts them: they go into URL paths.
const skuId = z.string().regex(/^[A-Za-z0-9._~-]{1,64}$/, {
  error: 'must be 1–64 letters, digits, ".", "_", "~" or "-" (it goes into URL paths)',
});
const INT32_MAX = 2 ** 31 - 1;

// ---- sources: which parameters rest on published facts, which are assumptions -------------------

const Fact = z.strictObject({
  fact: z.string().min(1).meta({ description: 'The published figure, e.g. "90,000 units sold out in 11.9 s".' }),
  source: z.string().min(1).meta({ description: 'Who published it (see docs/sources.md).' }),
  parameters: z.array(z.string().min(1)).meta({ description: 'Scenario fields it sets, as paths: "sale.skus[0].stock".' }),
});

const Assumption = z.strictObject({
  assumption: z.string().min(1),
  parameters: z.array(z.string().min(1)).meta({ description: 'Scenario fields that rest on it, as paths.' }),
});

const Sources = z.strictObject({
  facts: z.array(Fact).default([]),
  assumptions: z.array(Assumption).default([]),
});

// ---- sale ---------------------------------------------------------------------------------------

const Sale = z.strictObject({
  skus: z
    .array(z.strictObject({ id: skuId, stock: count.max(INT32_MAX).meta({ description: 'Units on sale.' }) }))
    .min(1),
  perUserLimit: z
    .union([z.int({ error: LIMIT_MESSAGE }).min(1, { error: LIMIT_MESSAGE }).max(INT32_MAX, { error: LIMIT_MESSAGE }), z.literal(NO_LIMIT, { error: LIMIT_MESSAGE })], { error: LIMIT_MESSAGE })
    .meta({ description: `Units one account may buy across the sale, or "${NO_LIMIT}".` }),
  reservationTtl: duration.default('2m').meta({ description: 'How long a reservation holds its units before they return.' }),
  payment: z
    .strictObject({
      declineRate: share.default(0).meta({ description: 'Share of payments the built-in service declines (units go back).' }),
      latency: duration.default(0).meta({ description: 'Time the built-in service spends on each payment.' }),
    })
    .prefault({}),
  opensAt: z
    .string()
    .regex(OPENS_AT_PATTERN, { error: 'must be "now", an ISO 8601 time with zone ("2014-10-28T14:00:00+05:30") or an offset ("+2s")', abort: true })
    .refine(isOpensAt, { error: 'is not a real date' })
    .default('now')
    .meta({ description: '"now", an ISO 8601 time, or an offset from the start of the run ("+2s").' }),
});

// ---- buyers -------------------------------------------------------------------------------------

// One block per arrival shape, each from its own file (src/schedule/).
const Arrival = arrivalSchema(z);

const ThinkTime = z.union([duration, z.strictObject({ min: duration, max: duration })]);

const Buyers = z.strictObject({
  population: positiveCount.meta({ description: 'Distinct accounts; user ids are `${userPrefix}${index}`.' }),
  userPrefix: z.string().regex(/^[A-Za-z0-9._:-]*$/).default(B.userPrefix),
  arrival: Arrival,
  journey: z.enum(JOURNEYS).default(B.journey).meta({
    description: '"checkout": one request per purchase; "reserve-pay": reserve, think, then pay.',
  }),
  qty: positiveCount.default(B.qty).meta({ description: 'Units each buyer asks for.' }),
  thinkTime: ThinkTime.default(B.thinkTime).meta({ description: 'A duration, or {min, max} drawn uniformly.' }),
  retries: z
    .strictObject({
      max: count.default(B.retries.max).meta({ description: 'Retries after the first attempt on 503, timeouts and connection errors.' }),
      baseDelay: duration.default(B.retries.baseDelay),
      maxDelay: duration.default(B.retries.maxDelay),
    })
    .prefault({}),
  timeout: duration.default(B.timeout).meta({ description: 'Per-request timeout (k6: params.timeout).' }),
  bots: z
    .strictObject({
      share: share.default(B.bots.share),
      retries: count.default(B.bots.retries),
      accounts: positiveCount.default(B.bots.accounts).meta({ description: 'Accounts one bot cycles through after a limit or sold-out answer.' }),
    })
    .prefault({}),
  skuWeights: z
    .array(z.number().nonnegative())
    .optional()
    .meta({ description: 'How often buyers ask for each SKU, in sale.skus order. Default: proportional to stock.' }),
});

// What goes on the request line and in headers as written: a CR or LF there would end the line and
// start another (header injection), and other control characters are not allowed by HTTP at all.
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const CONTROL = /[\u0000-\u0008\u000a-\u001f\u007f]/;
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const PATH_CHARS = /^[^\u0000-\u0020\u007f]*$/;
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

// ---- load ---------------------------------------------------------------------------------------

const Load = z.strictObject({
  workers: positiveCount.max(256).default(L.workers).meta({ description: 'Load worker threads.' }),
  connections: positiveCount.max(100_000).default(L.connections).meta({ description: 'Connections per worker.' }),
  maxDuration: duration.default(L.maxDuration).meta({ description: 'Hard stop for the whole run.' }),
  maxRequests: positiveCount.default(L.maxRequests).meta({ description: 'Hard stop after this many requests, retries included.' }),
  gracefulStop: duration.default(L.gracefulStop).meta({ description: 'After the schedule ends, how long in-flight journeys may finish (k6: gracefulStop).' }),
  seed: z.int().default(L.seed),
  stopOnSellOut: z.boolean().default(L.stopOnSellOut).meta({ description: 'Stop once every SKU answers sold out, as a real crowd thins out.' }),
  transport: z
    .enum(['auto', 'undici', 'raw'])
    .default(L.transport)
    .meta({ description: 'What carries the requests: undici, or the raw transport (plain http:// only, cheaper per request). auto: raw for the built-in service over http://, undici otherwise.' }),
  warmup: z
    .union([
      z.literal(false),
      z.strictObject({
        path: z
          .string()
          .startsWith('/', { error: 'must start with "/"', abort: true })
          .regex(PATH_CHARS, { error: 'must not contain spaces or control characters (CR, LF, tab…): it goes on the request line' })
          .default(L.warmup.path),
      }),
    ])
    .default({ ...L.warmup })
    .meta({ description: 'Before the sale opens, one GET of this path on every connection (never a purchase; not counted), so connecting is not counted as lateness. false: none.' }),
});

// ---- target -------------------------------------------------------------------------------------

const Matcher = z.union([
  z.strictObject({ status: z.union([z.int().min(100).max(599), z.array(z.int().min(100).max(599)).min(1)]) }),
  z.strictObject({
    jsonField: z.string().min(1).meta({ description: 'Dot path into the JSON answer: "result.code".' }),
    equals: z.union([z.string(), z.number(), z.boolean()]),
  }),
]);


const RequestTemplate = z.strictObject({
  method: z.enum(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']).default(T.method),
  path: z
    .string()
    .startsWith('/', { error: 'must start with "/"', abort: true })
    .regex(PATH_CHARS, { error: 'must not contain spaces or control characters (CR, LF, tab…): it goes on the request line' })
    .meta({ description: 'May contain ${userId} ${sku} ${qty} ${idempotencyKey} ${reservationId}.' }),
  headers: z
    .record(
      z.string().regex(HEADER_NAME, { error: 'is not a valid header name (letters, digits and !#$%&\'*+.^_`|~- only)' }),
      z.string().refine((v) => !CONTROL.test(v), { error: 'must not contain control characters (CR, LF…): a header value is one line' }),
    )
    .default({ ...T.headers }),
  json: z.unknown().optional().meta({ description: 'JSON body; placeholders are replaced inside string values.' }),
  form: z.record(z.string(), z.string()).optional().meta({ description: 'Form body (application/x-www-form-urlencoded).' }),
  success: Matcher,
  soldOut: Matcher,
  captureId: z.string().min(1).optional().meta({ description: 'Dot path to the id in a successful answer (reservationId, orderId).' }),
});

const Target = z.union([
  z.literal('built-in').meta({ description: 'The reference service, started in-process with this sale.' }),
  z.strictObject({
    url: z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' }),
    requests: z
      .strictObject({ checkout: RequestTemplate.optional(), reserve: RequestTemplate.optional(), pay: RequestTemplate.optional() })
      .optional()
      .meta({ description: "One template per step of the journey; leave it out for a target that speaks the built-in service's API." }),
  }),
]);

// ---- thresholds ---------------------------------------------------------------------------------

const Threshold = z.union([
  z.string().min(1),
  z.strictObject({
    threshold: z.string().min(1),
    abortOnFail: z.boolean().default(false),
    delayAbortEval: duration.optional(),
  }),
]);

const Thresholds = z.record(z.string().min(1), z.array(Threshold).min(1)).meta({
  description: 'k6 syntax: {"http_req_duration{step:reserve}": ["p(99)<250"], "checks": ["rate>0.99"]}.',
});

// ---- the whole file -----------------------------------------------------------------------------

export const ScenarioSchema = z
  .strictObject({
    $schema: z.string().optional(),
    name: slug,
    description: z.string().min(1),
    sources: Sources.optional(),
    sale: Sale,
    buyers: Buyers,
    load: Load.prefault({}),
    target: Target.default('built-in'),
    thresholds: Thresholds.default({}),
    /** Checked on its own by src/faults/validate.ts (validate.ts below), for messages that name the form meant. */
    faults: FaultsSchema.optional(),
  })
  .meta({ title: 'flashsale scenario', description: 'One flash sale: the sale, the buyers, the load, the target and the pass/fail thresholds.' });

/** A validated scenario with defaults filled in (durations still as written). */
export type Scenario = z.output<typeof ScenarioSchema>;
/** What a scenario file may contain. */
export type ScenarioInput = z.input<typeof ScenarioSchema>;
export type { ArrivalInput } from '../schedule/index.ts';
export type RequestTemplateInput = z.output<typeof RequestTemplate>;
export type MatcherInput = z.output<typeof Matcher>;
export type ThresholdInput = z.output<typeof Threshold>;

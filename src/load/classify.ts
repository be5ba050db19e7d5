// Turning an answer into an outcome with the template's matchers, and reading ids out of JSON bodies.
// Pure (nothing from node:*): the k6 script classifies with it too, so both engines agree.
import type { Matcher, RequestTemplate } from '../contract/load-plan.ts';
import { ERROR, REJECTED, SOLD_OUT, SUCCESS } from '../contract/vocabulary.ts';

/** Reads `a.b.c` from a parsed JSON value; undefined when any part is missing. Own fields only: a path
 * such as `order.constructor` must not find Object.prototype's members in a target's answer. */
export function readPath(value: unknown, path: string): unknown {
  let cur: unknown = value;
  for (const key of path.split('.')) {
    if (cur === null || typeof cur !== 'object' || !Object.hasOwn(cur, key)) return undefined;
    cur = (cur as Record<string, unknown>)[key]; // an object here (checked above): read by key
  }
  return cur;
}

export interface CompiledMatcher {
  needsBody: boolean;
  test(status: number, json: unknown): boolean;
}

export function compileMatcher(m: Matcher, where: string): CompiledMatcher {
  if (m && 'status' in m && Array.isArray(m.status)) {
    const set = new Set(m.status);
    return { needsBody: false, test: (status) => set.has(status) };
  }
  if (m && 'jsonField' in m && typeof m.jsonField === 'string') {
    const { jsonField, equals } = m;
    return { needsBody: true, test: (_status, json) => readPath(json, jsonField) === equals };
  }
  throw new TypeError(`${where}: a matcher needs either "status": [codes] or "jsonField" + "equals"`);
}

export interface Classifier {
  /** True when the body must be read, to classify or to capture an id. */
  needsBody: boolean;
  /** True when classifying itself reads the body (a jsonField matcher); else only a success with captureId is parsed. */
  matchersNeedBody: boolean;
  /** Outcome index (SUCCESS, SOLD_OUT, REJECTED, ERROR). */
  classify(status: number, json: unknown): number;
  captureId: string | null;
}

export function compileClassifier(t: RequestTemplate, where: string): Classifier {
  const success = compileMatcher(t.success, `${where}.success`);
  const soldOut = compileMatcher(t.soldOut, `${where}.soldOut`);
  return {
    needsBody: success.needsBody || soldOut.needsBody || t.captureId !== null,
    matchersNeedBody: success.needsBody || soldOut.needsBody,
    captureId: t.captureId,
    classify(status, json) {
      if (success.test(status, json)) return SUCCESS;
      if (soldOut.test(status, json)) return SOLD_OUT;
      // 5xx (503 overload included) is the target failing, worth a retry; any other answer is a refusal.
      return status >= 500 ? ERROR : REJECTED;
    },
  };
}

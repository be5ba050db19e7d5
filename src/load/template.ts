// Request templates compiled once per run: every string is split at its ${placeholders} so building a
// request is a few string concatenations, and the header array is prebuilt except for the values
// that vary per buyer. Values are escaped for where they land (path, JSON string, form field).
import type { RequestTemplate } from '../contract/load-plan.ts';

export const PLACEHOLDERS = ['userId', 'sku', 'qty', 'idempotencyKey', 'reservationId'] as const;
export type Placeholder = (typeof PLACEHOLDERS)[number];
export type Vars = { readonly [K in Placeholder]: K extends 'qty' ? number : string };

type Escape = (v: string) => string;

/** Characters that no escape here changes (encodeURIComponent, JSON strings, form fields). */
const PLAIN = /^[A-Za-z0-9_.~-]*$/;

/** True when `value` comes out of every escape unchanged, so rendering it may skip escaping. */
export function isPlain(value: string): boolean {
  return PLAIN.test(value);
}

const NONE: ReadonlySet<Placeholder> = new Set();
const asIs: Escape = (v) => v;
// eslint-disable-next-line no-control-regex -- JSON must escape exactly these control characters
const forJson: Escape = (v) => (/["\\\u0000-\u001f]/.test(v) ? JSON.stringify(v).slice(1, -1) : v);

/** A string with placeholders: static parts and, between them, which variable goes there. */
export class Pattern {
  readonly #parts: string[];
  readonly #vars: Placeholder[];
  /** Per variable: its escape, or null when the caller vouched its values are plain. */
  readonly #escapes: Array<Escape | null>;
  readonly isStatic: boolean;

  constructor(source: string, escape: Escape, where: string, plain: ReadonlySet<Placeholder> = NONE) {
    this.#parts = [];
    this.#vars = [];
    this.#escapes = [];
    const re = /\$\{([^}]*)\}/g;
    let last = 0;
    for (let m = re.exec(source); m; m = re.exec(source)) {
      const name = m[1] as Placeholder; // checked against PLACEHOLDERS just above
      if (!PLACEHOLDERS.includes(name)) {
        throw new TypeError(`${where}: unknown placeholder \${${m[1]}} (known: ${PLACEHOLDERS.map((p) => `\${${p}}`).join(' ')})`);
      }
      this.#parts.push(source.slice(last, m.index));
      this.#vars.push(name);
      this.#escapes.push(plain.has(name) || escape === asIs ? null : escape);
      last = m.index + m[0].length;
    }
    this.#parts.push(source.slice(last));
    this.isStatic = this.#vars.length === 0;
  }

  uses(name: Placeholder): boolean {
    return this.#vars.includes(name);
  }

  render(vars: Vars): string {
    const parts = this.#parts;
    if (this.isStatic) return parts[0];
    let out = parts[0];
    for (let i = 0; i < this.#vars.length; i++) {
      const escape = this.#escapes[i];
      const v = vars[this.#vars[i]];
      out += (escape === null ? v : escape(String(v))) + parts[i + 1];
    }
    return out;
  }
}

export interface CompiledTemplate {
  method: RequestTemplate['method'];
  /** Fills `into` (reused per journey: undici copies headers when the request is created) with the
   * flat [name, value, ...] list; `Idempotency-Key` is always sent. */
  headers(vars: Vars, into: string[]): string[];
  /** The same as headers() for an `into` that this template's headers() filled before: only the
   * values that vary per buyer are written again. */
  refreshHeaders(vars: Vars, into: string[]): string[];
  path(vars: Vars): string;
  body(vars: Vars): string | null;
}

// A JSON string that is exactly one placeholder of a number (`"${qty}"`) becomes that number.
const QTY_AS_NUMBER = /"\$\{qty\}"/g;

/**
 * `plain`: placeholders whose every value the caller knows to be plain (isPlain), e.g. generated ids;
 * rendering skips escaping them (the output is the same, it is only cheaper: it runs per request).
 */
export function compileTemplate(t: RequestTemplate, where: string, plain: ReadonlySet<Placeholder> = NONE): CompiledTemplate {
  const path = new Pattern(t.path, (v) => encodeURIComponent(v), `${where}.path`, plain);
  const headerNames: string[] = [];
  const headerValues: Pattern[] = [];
  let hasContentType = false;
  for (const [name, value] of Object.entries(t.headers ?? {})) {
    if (name.toLowerCase() === 'idempotency-key') continue; // always set from the journey below
    if (name.toLowerCase() === 'content-type') hasContentType = true;
    headerNames.push(name);
    headerValues.push(new Pattern(value, asIs, `${where}.headers.${name}`));
  }
  let body: Pattern | null = null;
  if (t.body && 'json' in t.body) {
    body = new Pattern(JSON.stringify(t.body.json).replace(QTY_AS_NUMBER, '${qty}'), forJson, `${where}.body`, plain);
    if (!hasContentType) {
      headerNames.push('content-type');
      headerValues.push(new Pattern('application/json', asIs, where));
    }
  } else if (t.body && 'form' in t.body) {
    const form = Object.entries(t.body.form)
      .map(([k, v]) => `${encodeURIComponent(k)}=${v}`)
      .join('&');
    body = new Pattern(form, (v) => encodeURIComponent(v), `${where}.body`, plain);
    if (!hasContentType) {
      headerNames.push('content-type');
      headerValues.push(new Pattern('application/x-www-form-urlencoded', asIs, where));
    }
  }
  const staticHeaders: string[] = [];
  headerNames.forEach((n, i) => staticHeaders.push(n, headerValues[i].isStatic ? headerValues[i].render(null as never) : '')); // a static pattern reads no variables
  const dynamic = headerValues.map((p, i) => (p.isStatic ? -1 : i)).filter((i) => i >= 0);
  const n = staticHeaders.length;
  const refreshHeaders = (vars: Vars, into: string[]): string[] => {
    for (let k = 0; k < dynamic.length; k++) into[2 * dynamic[k] + 1] = headerValues[dynamic[k]].render(vars);
    into[n + 1] = vars.idempotencyKey;
    return into;
  };
  return {
    method: t.method,
    headers(vars, into) {
      for (let i = 0; i < n; i++) into[i] = staticHeaders[i];
      into[n] = 'idempotency-key';
      if (into.length !== n + 2) into.length = n + 2;
      return refreshHeaders(vars, into);
    },
    refreshHeaders,
    path: (vars) => path.render(vars),
    body: body ? (vars) => body.render(vars) : () => null,
  };
}

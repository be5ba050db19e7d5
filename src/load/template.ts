// Request templates compiled once per run: every string is split at its ${placeholders} so building a
// request is a few string concatenations, and the header array is prebuilt except for the values
// that vary per buyer. Values are escaped for where they land (path, JSON string, form field).
import type { RequestTemplate } from './plan.ts';

export const PLACEHOLDERS = ['userId', 'sku', 'qty', 'idempotencyKey', 'reservationId'] as const;
export type Placeholder = (typeof PLACEHOLDERS)[number];
export type Vars = { readonly [K in Placeholder]: K extends 'qty' ? number : string };

type Escape = (v: string) => string;
const asIs: Escape = (v) => v;
const forJson: Escape = (v) => (/["\\\u0000-\u001f]/.test(v) ? JSON.stringify(v).slice(1, -1) : v);

/** A string with placeholders: static parts and, between them, which variable goes there. */
export class Pattern {
  readonly #parts: string[];
  readonly #vars: Placeholder[];
  readonly #escape: Escape;
  readonly isStatic: boolean;

  constructor(source: string, escape: Escape, where: string) {
    this.#parts = [];
    this.#vars = [];
    this.#escape = escape;
    const re = /\$\{([^}]*)\}/g;
    let last = 0;
    for (let m = re.exec(source); m; m = re.exec(source)) {
      const name = m[1] as Placeholder;
      if (!PLACEHOLDERS.includes(name)) {
        throw new TypeError(`${where}: unknown placeholder \${${m[1]}} (known: ${PLACEHOLDERS.map((p) => `\${${p}}`).join(' ')})`);
      }
      this.#parts.push(source.slice(last, m.index));
      this.#vars.push(name);
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
    for (let i = 0; i < this.#vars.length; i++) out += this.#escape(String(vars[this.#vars[i]])) + parts[i + 1];
    return out;
  }
}

export interface CompiledTemplate {
  method: RequestTemplate['method'];
  /** Fills `into` (reused per journey: undici copies headers when the request is created) with the
   * flat [name, value, ...] list; `Idempotency-Key` is always sent. */
  headers(vars: Vars, into: string[]): string[];
  path(vars: Vars): string;
  body(vars: Vars): string | null;
}

// A JSON string that is exactly one placeholder of a number (`"${qty}"`) becomes that number.
const QTY_AS_NUMBER = /"\$\{qty\}"/g;

export function compileTemplate(t: RequestTemplate, where: string): CompiledTemplate {
  const path = new Pattern(t.path, (v) => encodeURIComponent(v), `${where}.path`);
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
    body = new Pattern(JSON.stringify(t.body.json).replace(QTY_AS_NUMBER, '${qty}'), forJson, `${where}.body`);
    if (!hasContentType) headerNames.push('content-type'), headerValues.push(new Pattern('application/json', asIs, where));
  } else if (t.body && 'form' in t.body) {
    const form = Object.entries(t.body.form)
      .map(([k, v]) => `${encodeURIComponent(k)}=${v}`)
      .join('&');
    body = new Pattern(form, (v) => encodeURIComponent(v), `${where}.body`);
    if (!hasContentType) headerNames.push('content-type'), headerValues.push(new Pattern('application/x-www-form-urlencoded', asIs, where));
  }
  const staticHeaders: string[] = [];
  headerNames.forEach((n, i) => staticHeaders.push(n, headerValues[i].isStatic ? headerValues[i].render(null as never) : ''));
  const dynamic = headerValues.map((p, i) => (p.isStatic ? -1 : i)).filter((i) => i >= 0);
  return {
    method: t.method,
    headers(vars, into) {
      const n = staticHeaders.length;
      for (let i = 0; i < n; i++) into[i] = staticHeaders[i];
      for (const i of dynamic) into[2 * i + 1] = headerValues[i].render(vars);
      into[n] = 'idempotency-key';
      into[n + 1] = vars.idempotencyKey;
      into.length = n + 2;
      return into;
    },
    path: (vars) => path.render(vars),
    body: body ? (vars) => body.render(vars) : () => null,
  };
}

// A client for Toxiproxy's HTTP API (the endpoints of its README, v2.x): create and delete a proxy, add
// and remove toxics. Every call is bounded in time (CALL_TIMEOUT_MS) and in the answer it reads, and a
// refusal becomes a ToxiproxyError naming the call and Toxiproxy's own message ({"error": …}).
//
// The API has no authentication: anyone who reaches it can reroute traffic. flashsale only talks to a
// server it started itself on 127.0.0.1 (server.ts), or one the user names.
import { codeOf, messageOf } from '../../errors.ts';
import { Agent, request } from 'undici';

export const CALL_TIMEOUT_MS = 5_000;
const MAX_ANSWER_BYTES = 256 * 1024;

/** Toxiproxy's toxic types this client speaks, with their attributes (milliseconds, KB/s). */
export type Toxic =
  | { type: 'latency'; attributes: { latency: number; jitter?: number } }
  | { type: 'reset_peer'; attributes: { timeout: number } }
  | { type: 'timeout'; attributes: { timeout: number } }
  | { type: 'bandwidth'; attributes: { rate: number } };

/** upstream: client → target (requests); downstream: target → client (answers). */
export type Stream = 'upstream' | 'downstream';

export type ToxicSpec = Toxic & { name: string; stream: Stream; toxicity?: number };

export interface Proxy {
  name: string;
  /** host:port it listens on (the port Toxiproxy picked, when asked for port 0). */
  listen: string;
  upstream: string;
  enabled: boolean;
}

/** Toxiproxy refused or failed a call. Stays here, private to faults: the fault kinds catch it and raise a
 * FaultError (src/errors.ts) naming the fault. */
export class ToxiproxyError extends Error {
  readonly status: number | null;
  constructor(message: string, status: number | null) {
    super(message);
    this.name = 'ToxiproxyError';
    this.status = status;
  }
}

export class ToxiproxyClient {
  readonly url: string;
  readonly #dispatcher = new Agent({ connections: 4, headersTimeout: CALL_TIMEOUT_MS, bodyTimeout: CALL_TIMEOUT_MS });

  constructor(url: string) {
    this.url = url.replace(/\/+$/, '');
  }

  /** The server's version string ("git" for a build from the module proxy). */
  async version(): Promise<string> {
    return (await this.#call('GET', '/version', undefined, 'read the version')).text;
  }

  /** A proxy from `listen` (host:port; port 0: Toxiproxy picks one) to `upstream` (host:port). */
  async createProxy(name: string, listen: string, upstream: string): Promise<Proxy> {
    return this.#json(await this.#call('POST', '/proxies', { name, listen, upstream, enabled: true }, `create proxy ${name}`)) as Proxy; // Toxiproxy's documented answer to POST /proxies
  }

  async deleteProxy(name: string): Promise<void> {
    await this.#call('DELETE', `/proxies/${encodeURIComponent(name)}`, undefined, `delete proxy ${name}`);
  }

  async addToxic(proxy: string, toxic: ToxicSpec): Promise<void> {
    const body = { name: toxic.name, type: toxic.type, stream: toxic.stream, toxicity: toxic.toxicity ?? 1, attributes: toxic.attributes };
    await this.#call('POST', `/proxies/${encodeURIComponent(proxy)}/toxics`, body, `add ${toxic.type} toxic ${toxic.name} to ${proxy}`);
  }

  async removeToxic(proxy: string, name: string): Promise<void> {
    await this.#call('DELETE', `/proxies/${encodeURIComponent(proxy)}/toxics/${encodeURIComponent(name)}`, undefined, `remove toxic ${name} from ${proxy}`);
  }

  /** Names of the toxics on a proxy. */
  async toxics(proxy: string): Promise<string[]> {
    const list = this.#json(await this.#call('GET', `/proxies/${encodeURIComponent(proxy)}/toxics`, undefined, `list the toxics of ${proxy}`));
    return Array.isArray(list) ? list.map((t) => String((t as { name?: unknown }).name)) /* each toxic an object; name read as unknown */ : [];
  }

  async close(): Promise<void> {
    await this.#dispatcher.destroy().catch(() => undefined);
  }

  #json(answer: { text: string; what: string }): unknown {
    try {
      return JSON.parse(answer.text);
    } catch {
      throw new ToxiproxyError(`Toxiproxy at ${this.url}: ${answer.what}: the answer is not JSON`, null);
    }
  }

  async #call(method: 'GET' | 'POST' | 'DELETE', path: string, body: unknown, what: string): Promise<{ text: string; what: string }> {
    let status: number;
    let text: string;
    try {
      const res = await request(`${this.url}${path}`, {
        method,
        dispatcher: this.#dispatcher,
        signal: AbortSignal.timeout(CALL_TIMEOUT_MS),
        headers: body === undefined ? {} : { 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      status = res.statusCode;
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of res.body) {
        size += (chunk as Buffer).length; // undici's body yields Buffers
        if (size > MAX_ANSWER_BYTES) {
          res.body.destroy();
          throw new ToxiproxyError(`Toxiproxy at ${this.url}: ${what}: the answer is larger than ${MAX_ANSWER_BYTES} bytes`, status);
        }
        chunks.push(chunk as Buffer); // undici's body yields Buffers
      }
      text = Buffer.concat(chunks).toString('utf8');
    } catch (e) {
      if (e instanceof ToxiproxyError) throw e;
      const code = codeOf(e);
      const why = e instanceof Error && e.name === 'TimeoutError' ? `no answer within ${CALL_TIMEOUT_MS / 1000} s` : `${code === undefined ? '' : `${code}: `}${messageOf(e)}`;
      throw new ToxiproxyError(`Toxiproxy at ${this.url}: ${what}: ${why}`, null);
    }
    if (status >= 200 && status < 300) return { text, what };
    let message = text.trim().slice(0, 300);
    try {
      const parsed = JSON.parse(text) as { error?: unknown }; // read as unknown and checked below
      if (typeof parsed.error === 'string') message = parsed.error;
    } catch {
      // not JSON: keep the text
    }
    throw new ToxiproxyError(`Toxiproxy at ${this.url}: ${what}: ${status} ${message}`, status);
  }
}

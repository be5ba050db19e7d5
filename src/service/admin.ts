// Admin routes, behind the bearer token (off without one): redefine the sale, stream the ledger.
import type { IncomingMessage } from 'node:http';
import { createHash, timingSafeEqual } from 'node:crypto';
import { readJson } from './body.ts';
import { CANNED } from './reply.ts';
import { ROUTE } from './prometheus.ts';
import { fromWrittenSale, parseSale, saleIssues, type SaleDefinition } from './sale.ts';
import type { LedgerClient } from './ledger-client.ts';
import type { Exchange, Responder } from './exchange.ts';

const ORDERS_PAGE = 5000;

export class AdminRoutes {
  private readonly responder: Responder;
  private readonly ledger: LedgerClient;
  /** SHA-256 of the expected Authorization header; undefined when admin routes are off. */
  private readonly expected: Buffer | undefined;
  private readonly defineSale: (sale: SaleDefinition, force: boolean) => Promise<number>;

  constructor(responder: Responder, ledger: LedgerClient, token: string | undefined, defineSale: (sale: SaleDefinition, force: boolean) => Promise<number>) {
    this.responder = responder;
    this.ledger = ledger;
    this.expected = token === undefined ? undefined : digest(`Bearer ${token}`);
    this.defineSale = defineSale;
  }

  handle(req: IncomingMessage, exchange: Exchange): void {
    const expected = this.expected;
    if (expected === undefined) {
      req.resume();
      return this.responder.reply(exchange, CANNED.notFound); // admin routes are off without a token
    }
    if (!sameDigest(req.headers.authorization, expected)) {
      req.resume();
      return this.responder.reply(exchange, CANNED.unauthorized);
    }
    if (exchange.route === ROUTE.admin_orders) return void this.streamOrders(exchange).catch((e) => this.responder.fail(exchange, e));
    readJson(req, (body) => {
      if (!body.ok) return this.responder.reply(exchange, body.reply);
      const written = fromWrittenSale(body.value);
      const issues = [...written.issues, ...saleIssues(written.value)];
      const force = Object.hasOwn(body.value, 'force') ? body.value.force : false;
      if (typeof force !== 'boolean') issues.push('force: must be true or false');
      if (issues.length > 0 || typeof force !== 'boolean') return this.responder.error(exchange, 400, 'invalid_sale', issues.join('; '));
      this.defineSale(parseSale(written.value), force).then(
        (saleId) => this.responder.send(exchange, 201, JSON.stringify({ saleId })),
        (e) => (e instanceof SaleRefused ? this.responder.error(exchange, e.status, e.code, e.message) : this.responder.fail(exchange, e)),
      );
    });
  }

  /** Every committed order of the current sale as NDJSON, paged from the ledger thread with backpressure. */
  private async streamOrders(exchange: Exchange): Promise<void> {
    const res = exchange.res;
    const saleId = exchange.state.saleId;
    res.writeHead(200, ['content-type', 'application/x-ndjson']);
    let after = 0;
    for (;;) {
      const page = await this.ledger.page(saleId, after, ORDERS_PAGE);
      if (page.e !== undefined) {
        res.destroy(new Error(page.e)); // headers are out: cutting the stream is the only honest signal
        return this.responder.done(exchange, 500);
      }
      if (page.count > 0 && !res.write(page.ndjson)) {
        // Whichever comes first; the other listener goes too, or a long stream piles them up.
        await new Promise<void>((resolve) => {
          const go = () => {
            res.off('drain', go);
            res.off('close', go);
            resolve();
          };
          res.once('drain', go);
          res.once('close', go);
        });
      }
      if (res.destroyed) return this.responder.done(exchange, 200); // the client went away
      if (page.count < ORDERS_PAGE) break;
      after = page.lastRowid;
    }
    res.end();
    this.responder.done(exchange, 200);
  }
}

/** The main thread refused a sale (under way and not forced, or too big): answered as status + code.
 * An HTTP answer, never an exit, so it stays beside the admin routes rather than in src/errors.ts. */
export class SaleRefused extends Error {
  readonly status: number;
  readonly code: string;
  constructor(status: number, code: string, message: string) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

/**
 * Constant time: `!==` returns at the first differing character, so answer times leak how much of a
 * guess was right. Comparing digests makes the lengths equal (timingSafeEqual needs that) without
 * leaking the token's length either.
 */
export function sameDigest(header: string | undefined, expected: Buffer): boolean {
  return header !== undefined && timingSafeEqual(digest(header), expected);
}

// The service's health, in a SharedArrayBuffer: the main thread writes what it sees of its threads, the
// ledger thread what it sees of its commits, and whichever HTTP thread serves /healthz or /metrics reads
// it. Read only on those two routes: nothing on the buying path.
import { canned, type Canned } from './reply.ts';

const HTTP_DOWN = 0; // HTTP threads not serving (crashed, being restarted, or given up on)
const HTTP_RESTARTS = 1;
const LEDGER = 2; // LEDGER_OK, LEDGER_FAILING or LEDGER_DEAD
const LEDGER_FAILURE = 3; // what the failing commits say: FAILURE_DISK_FULL or FAILURE_OTHER
const COMMIT_FAILURES = 4; // batches that could not be committed, since start
const WORDS = 8;

export const LEDGER_OK = 0;
export const LEDGER_FAILING = 1;
export const LEDGER_DEAD = 2;
const FAILURE_OTHER = 0;
const FAILURE_DISK_FULL = 1;

export function createHealth(): SharedArrayBuffer {
  return new SharedArrayBuffer(WORDS * 4);
}

export class Health {
  private readonly w: Int32Array;
  constructor(sab: SharedArrayBuffer) {
    this.w = new Int32Array(sab);
  }

  httpThreadDown(): void {
    Atomics.add(this.w, HTTP_DOWN, 1);
  }
  httpThreadUp(restarted: boolean): void {
    Atomics.sub(this.w, HTTP_DOWN, 1);
    if (restarted) Atomics.add(this.w, HTTP_RESTARTS, 1);
  }
  /** Written by the ledger thread after each commit attempt; true when the state changed. */
  commitFailed(message: string): boolean {
    Atomics.add(this.w, COMMIT_FAILURES, 1);
    // SQLITE_FULL's text: "database or disk is full".
    Atomics.store(this.w, LEDGER_FAILURE, /disk is full|SQLITE_FULL|ENOSPC/i.test(message) ? FAILURE_DISK_FULL : FAILURE_OTHER);
    return Atomics.compareExchange(this.w, LEDGER, LEDGER_OK, LEDGER_FAILING) === LEDGER_OK;
  }
  commitSucceeded(): boolean {
    return Atomics.compareExchange(this.w, LEDGER, LEDGER_FAILING, LEDGER_OK) === LEDGER_FAILING;
  }
  ledgerDied(): void {
    Atomics.store(this.w, LEDGER, LEDGER_DEAD);
  }

  get ledger(): number {
    return Atomics.load(this.w, LEDGER);
  }

  /** What is wrong, one phrase each; empty when all is well. */
  problems(threads: number): string[] {
    const out: string[] = [];
    const down = Atomics.load(this.w, HTTP_DOWN);
    if (down > 0) out.push(`${down} of ${threads} HTTP thread(s) down (crashed; restarting)`);
    const ledger = Atomics.load(this.w, LEDGER);
    if (ledger === LEDGER_DEAD) out.push('the ledger thread is dead: no order can be made durable');
    else if (ledger === LEDGER_FAILING) {
      out.push(Atomics.load(this.w, LEDGER_FAILURE) === FAILURE_DISK_FULL ? 'ledger commits are failing: the disk is full' : 'ledger commits are failing');
    }
    return out;
  }

  /** The /healthz answer: the canned 200 when all is well, else 503 naming each problem. */
  healthz(threads: number, ok: Canned): Canned {
    const problems = this.problems(threads);
    if (problems.length === 0) return ok;
    return canned(503, JSON.stringify({ status: 'unhealthy', problems }));
  }

  /** Prometheus text for the service's own health. */
  metrics(threads: number): string {
    const w = this.w;
    const ledger = Atomics.load(w, LEDGER);
    return (
      `# HELP flashsale_http_threads_up HTTP threads serving.\n# TYPE flashsale_http_threads_up gauge\nflashsale_http_threads_up ${threads - Atomics.load(w, HTTP_DOWN)}\n` +
      `# HELP flashsale_http_thread_restarts_total HTTP threads restarted after a crash.\n# TYPE flashsale_http_thread_restarts_total counter\nflashsale_http_thread_restarts_total ${Atomics.load(w, HTTP_RESTARTS)}\n` +
      `# HELP flashsale_ledger_up 1 while the ledger thread runs.\n# TYPE flashsale_ledger_up gauge\nflashsale_ledger_up ${ledger === LEDGER_DEAD ? 0 : 1}\n` +
      `# HELP flashsale_ledger_commits_failing 1 while ledger commits fail (a full disk, say).\n# TYPE flashsale_ledger_commits_failing gauge\nflashsale_ledger_commits_failing ${ledger === LEDGER_FAILING ? 1 : 0}\n` +
      `# HELP flashsale_ledger_commit_failures_total Ledger batches that could not be committed (their orders answered 500).\n# TYPE flashsale_ledger_commit_failures_total counter\nflashsale_ledger_commit_failures_total ${Atomics.load(w, COMMIT_FAILURES)}\n`
    );
  }
}

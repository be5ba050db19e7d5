// bench/canned-target.ts: the benchmarks' target answers every complete request, in order, with its
// canned 201 (409 to POST /soldout), also when requests arrive split or several in one packet.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect } from 'node:net';
import type { ChildProcess } from 'node:child_process';
import { startCannedTarget } from '../bench/canned-target.ts';

let target: { url: string; child: ChildProcess };

beforeAll(async () => {
  target = await startCannedTarget();
}, 20_000);

afterAll(() => {
  target.child.kill();
});

const request = (path: string) => `POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}`;

/** Writes `pieces` one by one and collects what comes back until `answers` status lines arrived. */
async function exchange(pieces: string[], answers: number): Promise<string> {
  const { port } = new URL(target.url);
  const socket = connect(Number(port), '127.0.0.1');
  let got = '';
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    const done = new Promise<void>((resolve, reject) => {
      socket.on('data', (c: Buffer) => {
        got += c.toString('latin1');
        if ((got.match(/HTTP\/1\.1 /g) ?? []).length >= answers) resolve();
      });
      socket.once('error', reject);
      setTimeout(() => reject(new Error(`only got ${JSON.stringify(got)}`)), 5_000).unref();
    });
    for (const p of pieces) {
      socket.write(p);
      await new Promise((r) => setTimeout(r, 10));
    }
    await done;
    return got;
  } finally {
    socket.destroy();
  }
}

describe('bench/canned-target.ts', () => {
  it('answers a checkout 201 with a body, and POST /soldout 409 sold out', async () => {
    expect(await exchange([request('/api/v1/checkout')], 1)).toMatch(/^HTTP\/1\.1 201 Created\r\n[\s\S]*\r\n\r\n\{"orderId":"o1"\}$/);
    expect(await exchange([request('/soldout')], 1)).toMatch(/^HTTP\/1\.1 409 Conflict\r\n[\s\S]*\{"error":"sold_out"\}$/);
  });

  it('waits for a request split across packets (head and body), and answers two sent in one packet twice', async () => {
    const r = request('/api/v1/checkout');
    expect(await exchange([r.slice(0, 10), r.slice(10, r.length - 1), r.slice(r.length - 1)], 1)).toMatch(/^HTTP\/1\.1 201 /);
    const two = await exchange([r + r], 2);
    expect(two.match(/HTTP\/1\.1 201 Created/g)).toHaveLength(2);
  });
});

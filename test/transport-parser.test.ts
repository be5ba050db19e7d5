// The raw transport's parser reads the common status and header lines with char codes and the rest with
// its regular expressions: both ways must read every line the same. Lines from a seeded generator (token
// names, blanks, obs-text, stray colons, control characters) are parsed and compared with what the
// regular expressions alone say.
import { describe, expect, it } from 'vitest';
import { OK, PARSED, ParseFailure, ResponseParser, type ParserOwner } from '../src/load/transport/parser.ts';

const STATUS_LINE = /^HTTP\/(\d)\.(\d) (\d{3})(?: (.*))?$/;
const HEADER_LINE = /^([!#$%&'*+\-.^_`|~0-9A-Za-z]+):[ \t]*((?:.*[^ \t])|)[ \t]*$/;

class Owner implements ParserOwner {
  heads: Array<{ status: number; headers: string[]; text: string }> = [];
  onHead(statusCode: number, headers: string[], statusText: string): number {
    this.heads.push({ status: statusCode, headers: headers.slice(), text: statusText });
    return OK;
  }
  onBody(): number {
    return OK;
  }
  onMessageComplete(): number {
    return OK;
  }
  onTrailers(): void {}
}

function parse(text: string): { ret: number | ParseFailure; owner: Owner } {
  const owner = new Owner();
  const parser = new ResponseParser(owner, 16 * 1024);
  parser.reset();
  const bytes = Buffer.from(text, 'latin1');
  return { ret: parser.execute(bytes, 0, bytes.length), owner };
}

/** The line as the library hands it over: read from the bytes as 'ascii' (the top bit dropped). */
function asRead(text: string): string {
  return Buffer.from(text, 'latin1').toString('ascii');
}

function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) | 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ALPHABET = ['a', 'Z', '0', '-', '_', '!', '~', ':', ' ', '\t', '\x01', '\x7f', '\xe9', '\xff', '"', '(', '/', '.', ';', '=', '\x8d', '\x8a'];

function line(r: () => number, max: number): string {
  let s = '';
  const n = Math.floor(r() * max);
  for (let i = 0; i < n; i++) s += ALPHABET[Math.floor(r() * ALPHABET.length)];
  return s;
}

describe('raw transport parser: char-code reading of status and header lines', () => {
  it('reads every generated header line as the regular expression does, or refuses it as before', () => {
    const r = random(18);
    for (let k = 0; k < 3000; k++) {
      const header = line(r, 8) + (r() < 0.7 ? ':' : '') + line(r, 10);
      const { ret, owner } = parse(`HTTP/1.1 200 OK\r\n${header}\r\ncontent-length: 0\r\n\r\n`);
      // A CR inside a line is refused before the expression is tried (llhttp: HPE_LF_EXPECTED).
      const m = asRead(header).includes('\r') ? null : HEADER_LINE.exec(asRead(header));
      if (header === '') continue;
      if (m !== null) {
        expect(ret, JSON.stringify(header)).toBe(PARSED);
        expect(owner.heads[0].headers.slice(0, 2), JSON.stringify(header)).toEqual([m[1], m[2]]);
      } else {
        // A continuation (leading blank) of nothing, or not a header: refused either way.
        expect(ret, JSON.stringify(header)).toBeInstanceOf(ParseFailure);
      }
    }
  });

  it('reads every generated status line as the regular expression does', () => {
    const r = random(7);
    const pieces = ['HTTP/', '1', '.', '0', ' ', '2', '01', '0', '4', 'x', '\t', 'Created', ' ', '\xe9', '\x8d'];
    for (let k = 0; k < 3000; k++) {
      let status = r() < 0.5 ? 'HTTP/1.1 ' : '';
      for (let i = Math.floor(r() * 8); i > 0; i--) status += pieces[Math.floor(r() * pieces.length)];
      if (status === '') continue;
      const { ret, owner } = parse(`${status}\r\ncontent-length: 0\r\n\r\n`);
      const m = STATUS_LINE.exec(asRead(status));
      if (m !== null) {
        expect(ret, JSON.stringify(status)).toBe(PARSED);
        expect(owner.heads[0].status).toBe(Number(m[3]));
        expect(owner.heads[0].text).toBe(m[4] ?? '');
      } else {
        expect(ret, JSON.stringify(status)).toBeInstanceOf(ParseFailure);
      }
    }
  });

  it('the same lines whatever the read boundaries (a line split over reads, CR and LF in different reads)', () => {
    const text = 'HTTP/1.1 201 Created\r\nContent-Type:  application/json \t\r\nX-A: b\x8d\nContent-Length: 2\r\n\r\n{}';
    const bytes = Buffer.from(text, 'latin1');
    const whole = parse(text).owner.heads;
    for (let cut = 1; cut < bytes.length; cut++) {
      const owner = new Owner();
      const parser = new ResponseParser(owner, 16 * 1024);
      parser.reset();
      expect(parser.execute(bytes.subarray(0, cut), 0, cut)).toBe(PARSED);
      expect(parser.execute(bytes.subarray(cut), 0, bytes.length - cut)).toBe(PARSED);
      expect(owner.heads, `cut at ${cut}`).toEqual(whole);
    }
    // 0x8d reads as CR in 'ascii', and ends the line as the library reads it.
    expect(whole[0].headers).toEqual(['Content-Type', 'application/json', 'X-A', 'b', 'Content-Length', '2']);
  });

  it('the plain lines of a common answer', () => {
    const { ret, owner } = parse('HTTP/1.1 201 Created\r\nContent-Type:  application/json \t\r\nX-Empty:\r\nContent-Length: 0\r\n\r\n');
    expect(ret).toBe(PARSED);
    expect(owner.heads[0]).toEqual({ status: 201, headers: ['Content-Type', 'application/json', 'X-Empty', '', 'Content-Length', '0'], text: 'Created' });
    expect(parse('HTTP/1.1 204\r\n\r\n').owner.heads[0].text).toBe('');
  });
});

// Integrity of a ledger file, checked at start before anything is served from it.
//
// The WAL: SQLite replays the write-ahead log frame by frame on open and stops, without a word, at the
// first frame whose salt or checksum is wrong. Every commit after that point is dropped: a flipped byte
// early in the log silently loses acknowledged orders (and their units are sold again). So before SQLite
// opens the file, the log is read here with SQLite's own rules (https://sqlite.org/fileformat2.html#wal)
// to find where replay would stop, and whether a commit of this log lies at or after that point.
//
// What is not damage: frames of an earlier generation of the log (other salts: left over after a
// checkpoint restarted the log), and frames of this log after the last commit with no commit of their
// own (a transaction that was rolled back or cut by a crash: never acknowledged). What is: a commit
// frame of this log at or past the break. A frame "of this log" matches the header's salt-1 or salt-2,
// so a flip inside one salt field still counts it. One case this cannot tell apart: after a power cut, a
// last transaction written out of order (its commit frame on disk, an earlier frame not) looks the same
// as damage; it was never acknowledged, and accepting the damage then loses nothing acknowledged.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import type { DatabaseSync } from 'node:sqlite';
import { codeOf } from '../errors.ts';

const HEADER = 32;
const FRAME_HEADER = 24;
const MAGIC_LE = 0x377f0682; // checksums over little-endian words
const MAGIC_BE = 0x377f0683; // checksums over big-endian words
const VERSION = 3007000;

export type WalCheck =
  | { ok: true; frames: number; commits: number }
  | { ok: false; problem: string };

/** SQLite's WAL checksum over `data` (a multiple of 8 bytes), continuing from [s1, s2]. */
function checksum(data: Buffer, bigEndian: boolean, s: [number, number]): [number, number] {
  let s1 = s[0];
  let s2 = s[1];
  for (let i = 0; i < data.length; i += 8) {
    const x0 = bigEndian ? data.readUInt32BE(i) : data.readUInt32LE(i);
    const x1 = bigEndian ? data.readUInt32BE(i + 4) : data.readUInt32LE(i + 4);
    s1 = (s1 + x0 + s2) >>> 0;
    s2 = (s2 + x1 + s1) >>> 0;
  }
  return [s1, s2];
}

/** Reads `walPath` (absent or empty: nothing to replay) and says whether replaying it would drop commits. */
export function checkWal(walPath: string): WalCheck {
  let fd: number;
  try {
    fd = openSync(walPath, 'r');
  } catch (e) {
    if (codeOf(e) === 'ENOENT') return { ok: true, frames: 0, commits: 0 };
    throw e;
  }
  try {
    const size = fstatSync(fd).size;
    if (size < HEADER) return { ok: true, frames: 0, commits: 0 };
    const header = Buffer.alloc(HEADER);
    readSync(fd, header, 0, HEADER, 0);
    const magic = header.readUInt32BE(0);
    const pageSize = header.readUInt32BE(8);
    const frameSize = FRAME_HEADER + pageSize;
    const validPageSize = pageSize >= 512 && pageSize <= 65536 && (pageSize & (pageSize - 1)) === 0;
    const whole = validPageSize ? Math.floor((size - HEADER) / frameSize) : 0;
    const bigEndian = magic === MAGIC_BE;
    let sum = checksum(header.subarray(0, 24), bigEndian, [0, 0]);
    const headerOk =
      (magic === MAGIC_LE || magic === MAGIC_BE) && header.readUInt32BE(4) === VERSION && validPageSize &&
      sum[0] === header.readUInt32BE(24) && sum[1] === header.readUInt32BE(28);
    if (!headerOk) {
      // SQLite ignores a log whose header is wrong. The header is synced before any frame is written,
      // so frames behind a bad header mean the header was damaged later.
      if (whole === 0) return { ok: true, frames: 0, commits: 0 };
      return { ok: false, problem: `its header is damaged, so SQLite would ignore all ${whole} frame(s) in it` };
    }
    const salt1 = header.readUInt32BE(16);
    const salt2 = header.readUInt32BE(20);
    const frame = Buffer.alloc(frameSize);
    let commits = 0;
    let valid = 0; // frames up to the last good commit: what SQLite replays
    let broken = -1; // first frame where replay stops
    let lostCommits = 0;
    for (let i = 0; i < whole; i++) {
      readSync(fd, frame, 0, frameSize, HEADER + i * frameSize);
      const commit = frame.readUInt32BE(4) !== 0;
      const s1 = frame.readUInt32BE(8);
      const s2 = frame.readUInt32BE(12);
      if (broken >= 0) {
        if ((s1 === salt1 || s2 === salt2) && commit) lostCommits++;
        continue;
      }
      let ok = s1 === salt1 && s2 === salt2;
      if (ok) {
        const next = checksum(frame.subarray(FRAME_HEADER), bigEndian, checksum(frame.subarray(0, 8), bigEndian, sum));
        ok = next[0] === frame.readUInt32BE(16) && next[1] === frame.readUInt32BE(20);
        if (ok) sum = next;
      }
      if (!ok) {
        broken = i;
        if ((s1 === salt1 || s2 === salt2) && commit) lostCommits++;
        continue;
      }
      if (commit) {
        commits++;
        valid = i + 1;
      }
    }
    if (lostCommits > 0) {
      return {
        ok: false,
        problem: `frame ${broken + 1} of ${whole} fails its checksum or salt, so SQLite would stop replaying there and drop ${lostCommits} committed transaction(s) from there on (${valid} frame(s) replayed)`,
      };
    }
    return { ok: true, frames: valid, commits };
  } finally {
    closeSync(fd);
  }
}

/** PRAGMA quick_check: [] when the database is sound, else SQLite's findings (at most `max`). */
export function quickCheck(db: DatabaseSync, max = 10): string[] {
  const rows = db.prepare(`PRAGMA quick_check(${max})`).all() as Array<Record<string, unknown>>; // node:sqlite types rows as unknown records; PRAGMA quick_check has one text column
  const findings = rows.map((r) => String(Object.values(r)[0]));
  return findings.length === 1 && findings[0] === 'ok' ? [] : findings;
}

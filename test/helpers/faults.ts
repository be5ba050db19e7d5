// Fault injection for tests, never used by production code: damage a ledger file the way a bad disk
// or a stray write would, take the files a crash leaves behind, fill a disk, crash a named thread.
import { copyFileSync, existsSync, openSync, readSync, writeSync, closeSync, fstatSync, mkdtempSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FAULTS, type RunningService } from '../../src/service/index.ts';

const WAL_HEADER = 32;
const FRAME_HEADER = 24;

/**
 * Copies a ledger file and its write-ahead log while the writer still holds them open: what a kill -9
 * leaves on disk (committed frames in the log, not yet checkpointed into the database file).
 */
export function snapshotLedger(path: string, dest: string): void {
  copyFileSync(path, dest);
  if (existsSync(`${path}-wal`)) copyFileSync(`${path}-wal`, `${dest}-wal`);
}

function flip(file: string, at: number, bytes = 4): void {
  const fd = openSync(file, 'r+');
  try {
    if (at + bytes > fstatSync(fd).size) throw new Error(`${file} has no byte ${at + bytes - 1}`);
    const b = Buffer.alloc(bytes);
    readSync(fd, b, 0, bytes, at);
    for (let i = 0; i < bytes; i++) b[i] ^= 0xff;
    writeSync(fd, b, 0, bytes, at);
  } finally {
    closeSync(fd);
  }
}

/** Frames in a write-ahead log and its page size. */
export function walFrames(walPath: string): { frames: number; pageSize: number } {
  const fd = openSync(walPath, 'r');
  try {
    const header = Buffer.alloc(WAL_HEADER);
    readSync(fd, header, 0, WAL_HEADER, 0);
    const pageSize = header.readUInt32BE(8);
    return { frames: Math.floor((fstatSync(fd).size - WAL_HEADER) / (FRAME_HEADER + pageSize)), pageSize };
  } finally {
    closeSync(fd);
  }
}

/**
 * Flips 4 bytes of frame `frame` (0-based) of a write-ahead log: in its page data by default, or at
 * `offset` into the frame (0–23 is the frame header: 8 is salt-1, 16 the checksum).
 */
export function corruptWalFrame(walPath: string, frame: number, offset = FRAME_HEADER + 100): void {
  const { frames, pageSize } = walFrames(walPath);
  if (frame < 0 || frame >= frames) throw new Error(`${walPath} has ${frames} frames, no frame ${frame}`);
  flip(walPath, WAL_HEADER + frame * (FRAME_HEADER + pageSize) + offset);
}

/** Flips 4 bytes of the write-ahead log's header (offset 16: salt-1). */
export function corruptWalHeader(walPath: string, offset = 16): void {
  flip(walPath, offset);
}

/** Flips 4 bytes in the b-tree header of database page `page` (1-based) of a closed, checkpointed file. */
export function corruptDbPage(dbPath: string, page: number, pageSize = 4096): void {
  flip(dbPath, (page - 1) * pageSize + 8);
}

/** Ends one of a running service's threads the way a crash does (no cleanup code of the thread runs). */
export function crashThread(service: RunningService, thread: 'http' | 'ledger', index = 0): Promise<void> {
  return service[FAULTS].crash(thread, index);
}

export interface TinyDisk {
  dir: string;
  /** Fills the disk but `leaveBytes` with a filler file. */
  fill(leaveBytes: number): void;
  /** Deletes the filler: the disk has room again. */
  free(): void;
  unmount(): void;
}

/**
 * A small tmpfs mounted for the test: a real ENOSPC, as a full disk gives SQLite. Needs root (and a
 * kernel that lets this container mount): returns why not, for the test to skip with, when it cannot.
 */
export function mountTinyDisk(bytes: number): TinyDisk | string {
  if (process.platform !== 'linux') return 'a tmpfs disk needs Linux';
  if (process.getuid?.() !== 0) return 'mounting a small tmpfs disk needs root';
  const dir = mkdtempSync(join(tmpdir(), 'flashsale-tiny-disk-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${bytes}`, 'tmpfs', dir], { stdio: 'pipe' });
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    return `cannot mount a tmpfs here: ${String((e as { stderr?: Buffer }).stderr ?? e).trim()}`;
  }
  const filler = join(dir, 'filler');
  return {
    dir,
    fill(leaveBytes: number) {
      const { bavail, bsize } = statfsSync(dir);
      const room = bavail * bsize - leaveBytes;
      if (room > 0) writeFileSync(filler, Buffer.alloc(room));
    },
    free() {
      rmSync(filler, { force: true });
    },
    unmount() {
      try {
        execFileSync('umount', [dir], { stdio: 'pipe' });
      } catch {
        execFileSync('umount', ['-l', dir], { stdio: 'pipe' }); // still busy: detach it now, freed when closed
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

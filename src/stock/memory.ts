// Shared tables are sized up front (a SharedArrayBuffer cannot grow here): refuse, saying so, a size the
// machine cannot hold, before allocating, instead of asking the OS for gigabytes.
import { totalmem } from 'node:os';
import { UsageError } from '../errors.ts';

/** Throws a UsageError saying `what` (plural: "N users") need how much, and `fix`, when `bytes` is over half of `machineBytes`. */
export function checkSharedMemory(bytes: number, what: string, fix: string, machineBytes: number = totalmem()): void {
  // Half the machine: the rest is for the threads' heaps, the ledger and whatever else runs (the load generator).
  if (bytes <= machineBytes / 2) return;
  const gb = (b: number) => (b / 2 ** 30).toFixed(1);
  throw new UsageError(`${what} need ${gb(bytes)} GB of shared tables, more than half of this machine's ${gb(machineBytes)} GB: ${fix}`);
}

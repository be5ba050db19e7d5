// A test hook that makes `flashsale run` see a machine whose every CPU is busy with other processes,
// with no hook in production code and no CPU burnt (a real CPU hog would slow every other test running
// beside it): preloaded with `node --import`, it answers reads of /proc/stat with counters in which all
// CPU time since the process started was busy, and reports this process's own CPU time as nothing, so
// all of it was other processes'. Only with FLASHSALE_TEST_BUSY_MACHINE=1.
import fs from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { availableParallelism } from 'node:os';

if (process.env.FLASHSALE_TEST_BUSY_MACHINE === '1') {
  const real = fs.readFileSync;
  const cpus = availableParallelism();
  const started = performance.now();
  fs.readFileSync = ((path: fs.PathOrFileDescriptor, options?: unknown) => {
    if (path !== '/proc/stat') return real(path, options as never);
    const ticks = Math.round(((performance.now() - started) / 10) * cpus) + 1_000_000;
    return `cpu  ${ticks} 0 0 0 0 0 0 0 0 0\n`;
  }) as typeof fs.readFileSync;
  syncBuiltinESMExports();
  process.cpuUsage = () => ({ user: 0, system: 0 });
}

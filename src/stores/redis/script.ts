// A Lua script run by EVALSHA, loaded on first NOSCRIPT. Why EVALSHA and not a Redis Function
// (FUNCTION LOAD / FCALL): this Redis keeps nothing on disk, so a restart forgets functions and scripts
// alike, and only EVALSHA has a self-healing path built into the call (NOSCRIPT → EVAL, which loads it
// again) without a separate deploy step on every node; it runs on Redis 6 as well as 7, and it is the
// command redis-benchmark can time for the same-run hardware line. See docs/stores.md.
import { createHash } from 'node:crypto';
import type { RedisLink } from './link.ts';

export class RedisScript {
  readonly name: string;
  readonly source: string;
  readonly sha: string;

  constructor(name: string, source: string) {
    this.name = name;
    this.source = source;
    this.sha = createHash('sha1').update(source).digest('hex');
  }

  /** Runs the script on `keys` (all in one hash slot) with `args`: EVALSHA, or EVAL when Redis does not have it (yet, or any more). */
  async run(link: RedisLink, keys: readonly string[], args: ReadonlyArray<string | number>): Promise<unknown> {
    try {
      return await link.call(['EVALSHA', this.sha, keys.length, ...keys, ...args]);
    } catch (e) {
      if (!(e instanceof Error) || !e.message.startsWith('NOSCRIPT')) throw e;
      // EVAL both runs it and caches it under the same SHA1: the next call's EVALSHA finds it.
      return link.call(['EVAL', this.source, keys.length, ...keys, ...args]);
    }
  }
}

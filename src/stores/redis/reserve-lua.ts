// The Lua scripts of reservations on redis-lua. A reservation is a hold in the SKU's holds hash (as a
// checkout's is) plus an entry in the SKU's expiry set (holdId → expiresAt ms). The expiry entry is the
// claim: a hold is open exactly while it is in the set, and whoever removes it (pay, release, the
// sweeper) owns the hold — ZREM answers 1 to one caller only, so N processes racing settle a hold once.
// A reservation's hold record carries no idempotency key: the key keeps the reserve's answer after the
// reservation ended (a retry replays it, as the in-process service does); the key scripts below manage it.
import { PARSE_HOLD } from './lua.ts';
import { OTHER_NODE } from './node-lua.ts';
import { RedisScript } from './script.ts';

/** Gives back units and allowance of the holds named in `list` that still exist; sets `units` and `found`. */
const GIVE_BACK = `
local function give_back(stock, users, holds, list)
  local units, found = 0, 0
  for _, hold in ipairs(list) do
    local h = redis.call('HGET', holds, hold)
    if h then
      local qty, limited, key, user = parse_hold(h)
      redis.call('HDEL', holds, hold)
      units = units + qty
      found = found + 1
      if limited and redis.call('HINCRBY', users, user, -qty) <= 0 then redis.call('HDEL', users, user) end
    end
  end
  if units > 0 and redis.call('EXISTS', stock) == 1 then
    redis.call('HINCRBY', stock, 'held', -units)
    redis.call('HINCRBY', stock, 'avail', units)
  end
  return found
end
`;

/**
 * KEYS stock, users, keys, holds, expiry. ARGV qty, userId, limit, key ('' = none), fingerprint, holdId, expiresAt.
 * Returns {code, value}: taken epoch | sold_out | limit | replay holdId|answer | mismatch | missing | duplicate_hold
 * ('missing' also when the stock was loaded on another node: node-lua.ts).
 * The checks in the checkout's order (src/stores/redis/lua.ts TAKE): key, stock, limit. A keyed taken,
 * sold_out or limit leaves the key naming holdId with no answer yet (in flight): KEY_END settles it.
 */
export const RESERVE = new RedisScript(
  'reserve',
  `${OTHER_NODE}
local stock, users, idem, holds, expiry = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local qty, user, limit, key, fp, hold, expires = tonumber(ARGV[1]), ARGV[2], tonumber(ARGV[3]), ARGV[4], ARGV[5], ARGV[6], ARGV[7]
local got = redis.call('HMGET', stock, 'avail', 'node')
local avail = got[1]
if not avail or other_node(stock, got[2]) then return {'missing', ''} end
if key ~= '' then
  local seen = redis.call('HGET', idem, key)
  if seen then
    local bar = string.find(seen, '|', 1, true)
    if string.sub(seen, 1, bar - 1) ~= fp then return {'mismatch', ''} end
    return {'replay', string.sub(seen, bar + 1)}
  end
end
-- A refusal leaves the key in flight for holdId: the service stores the 4xx answer (KEY_END), as in-process.
if tonumber(avail) < qty then
  if key ~= '' then redis.call('HSET', idem, key, fp .. '|' .. hold .. '|') end
  return {'sold_out', ''}
end
if redis.call('HEXISTS', holds, hold) == 1 then return {'duplicate_hold', ''} end
if limit > 0 then
  local had = tonumber(redis.call('HGET', users, user) or '0')
  if had + qty > limit then
    if key ~= '' then redis.call('HSET', idem, key, fp .. '|' .. hold .. '|') end
    return {'limit', ''}
  end
  redis.call('HINCRBY', users, user, qty)
end
redis.call('HINCRBY', stock, 'avail', -qty)
redis.call('HINCRBY', stock, 'held', qty)
redis.call('HSET', holds, hold, qty .. '|' .. (limit > 0 and '1' or '0') .. '|0|' .. user)
redis.call('ZADD', expiry, expires, hold)
if key ~= '' then redis.call('HSET', idem, key, fp .. '|' .. hold .. '|') end
return {'taken', redis.call('HGET', stock, 'epoch')}
`,
);

/**
 * KEYS stock, holds, expiry. ARGV holdId. Takes the reservation out of the expiry set (this caller now owns it).
 * Returns {'claimed', record, expiresAt, epoch} | {'busy'} (claimed by another request) | {'gone'} | {'missing'}
 * (no stock, or stock loaded on another node: a replica promoted since may not know this hold — node-lua.ts).
 */
export const CLAIM = new RedisScript(
  'claim',
  `${OTHER_NODE}
local stock, holds, expiry, hold = KEYS[1], KEYS[2], KEYS[3], ARGV[1]
local got = redis.call('HMGET', stock, 'epoch', 'node')
if not got[1] or other_node(stock, got[2]) then return {'missing'} end
local score = redis.call('ZSCORE', expiry, hold)
if not score then
  if redis.call('HEXISTS', holds, hold) == 1 then return {'busy'} end
  return {'gone'}
end
redis.call('ZREM', expiry, hold)
local h = redis.call('HGET', holds, hold)
if not h then return {'gone'} end
return {'claimed', h, score, got[1]}
`,
);

/** KEYS holds, expiry. ARGV holdId, expiresAt. Puts a claimed reservation back (its release could not be recorded). */
export const UNCLAIM = new RedisScript(
  'unclaim',
  `
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1]) return 1 end
return 0
`,
);

/** KEYS stock, users, holds, expiry. ARGV holdId… Ends reservations: units and allowance back, once. Returns how many it found. */
export const DROP = new RedisScript(
  'drop',
  `${PARSE_HOLD}${GIVE_BACK}
for i = 1, #ARGV do redis.call('ZREM', KEYS[4], ARGV[i]) end
return give_back(KEYS[1], KEYS[2], KEYS[3], ARGV)
`,
);

/**
 * KEYS stock, users, holds, expiry. ARGV now, max. Expires up to `max` reservations due by `now`: each one
 * leaves the set and gives its units back in the same atomic step, so sweepers racing expire it once.
 * Returns {expired, more} (more = 1: the batch was full, sweep again).
 */
export const SWEEP = new RedisScript(
  'sweep',
  `${PARSE_HOLD}${GIVE_BACK}
local due = redis.call('ZRANGEBYSCORE', KEYS[4], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
for _, hold in ipairs(due) do redis.call('ZREM', KEYS[4], hold) end
local n = give_back(KEYS[1], KEYS[2], KEYS[3], due)
return {n, #due == tonumber(ARGV[2]) and 1 or 0}
`,
);

/**
 * KEYS keys. ARGV key, fingerprint, holdId. A keyed request that does not take stock (pay): claims the key
 * for holdId. Returns {'run', ''} | {'replay', holdId|answer} | {'mismatch', ''}.
 */
export const KEY_BEGIN = new RedisScript(
  'key_begin',
  `
local seen = redis.call('HGET', KEYS[1], ARGV[1])
if seen then
  local bar = string.find(seen, '|', 1, true)
  if string.sub(seen, 1, bar - 1) ~= ARGV[2] then return {'mismatch', ''} end
  return {'replay', string.sub(seen, bar + 1)}
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2] .. '|' .. ARGV[3] .. '|')
return {'run', ''}
`,
);

/**
 * KEYS keys. ARGV key, holdId, answer ('' = forget the key). Only while the key still names holdId.
 * The answer is a 201 body, or a 4xx status and its body (src/service/store-key-answers.ts).
 */
export const KEY_END = new RedisScript(
  'key_end',
  `
local seen = redis.call('HGET', KEYS[1], ARGV[1])
if not seen then return 0 end
local bar = string.find(seen, '|', 1, true)
local rest = string.sub(seen, bar + 1)
local bar2 = string.find(rest, '|', 1, true)
if string.sub(rest, 1, bar2 - 1) ~= ARGV[2] then return 0 end
if ARGV[3] == '' then redis.call('HDEL', KEYS[1], ARGV[1]) else redis.call('HSET', KEYS[1], ARGV[1], string.sub(seen, 1, bar) .. ARGV[2] .. '|' .. ARGV[3]) end
return 1
`,
);

/**
 * KEYS keys. ARGV key, fingerprint, holdId, answer. Keeps a refused keyed checkout's final answer: writes
 * the key when it is absent (the take refused before writing it, or the release dropped it), or when it
 * still names holdId with no answer. A key another attempt has since claimed is left alone.
 */
export const KEY_REMEMBER = new RedisScript(
  'key_remember',
  `
local seen = redis.call('HGET', KEYS[1], ARGV[1])
if seen then
  local bar = string.find(seen, '|', 1, true)
  if string.sub(seen, bar + 1) ~= ARGV[3] .. '|' then return 0 end
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2] .. '|' .. ARGV[3] .. '|' .. ARGV[4])
return 1
`,
);

// The Lua scripts of reservations on redis-leased. A reservation's units are taken as a checkout's are
// (from the owner's lease, the user's allowance under the user's own tag) and then moved, in HOLD, from
// the owner's lease to the SKU's `held` count in Redis with the hold record and its expiry entry — the
// same record and expiry set as redis-lua's (reserve-lua.ts), so CLAIM, UNCLAIM, KEY_BEGIN, KEY_END and
// CONFIRM are shared. From then on the hold is Redis's, not the process's: any process can pay, release or
// expire it. Its units go back to the SKU's pool (where every owner's next LEASE sees them); its user's
// allowance lives under another hash tag, so DROP and SWEEP answer whose allowance to give back and the
// caller does that in a second call (RedisLeasedStock.giveAllowance).
import { PARSE_HOLD } from './lua.ts';
import { OTHER_NODE } from './node-lua.ts';
import { RedisScript } from './script.ts';

/**
 * KEYS stock, leases, holds, expiry. ARGV owner, qty, epoch, holdId, limited ('1'|'0'), userId, expiresAt.
 * Moves qty units the owner took from its lease (under `epoch`) to the SKU's held count, with the hold and
 * its expiry entry. Returns 'ok' | 'missing' (no stock, or stock loaded on another node: node-lua.ts) | 'stale' (the stock was rebuilt since: the units
 * were counted by the rebuild) | 'duplicate' (the hold id exists).
 */
export const HOLD = new RedisScript(
  'leased_hold',
  `${OTHER_NODE}
local stock, leases, holds, expiry = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local owner, qty, epoch, hold, limited, user, expires = ARGV[1], tonumber(ARGV[2]), ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7]
local got = redis.call('HMGET', stock, 'epoch', 'node')
if not got[1] or other_node(stock, got[2]) then return 'missing' end
if got[1] ~= epoch then return 'stale' end
if redis.call('HEXISTS', holds, hold) == 1 then return 'duplicate' end
redis.call('HINCRBY', leases, owner, -qty)
redis.call('HINCRBY', stock, 'leased', -qty)
redis.call('HINCRBY', stock, 'held', qty)
redis.call('HSET', holds, hold, qty .. '|' .. limited .. '|0|' .. user)
redis.call('ZADD', expiry, expires, hold)
return 'ok'
`,
);

/** Ends the holds named in `list` that still exist: units back to the pool; returns found and the {user, qty} of limited ones. */
const GIVE_BACK = `
local function give_back(stock, holds, list)
  local units, found, users = 0, 0, {}
  for _, hold in ipairs(list) do
    local h = redis.call('HGET', holds, hold)
    if h then
      local qty, limited, key, user = parse_hold(h)
      redis.call('HDEL', holds, hold)
      units = units + qty
      found = found + 1
      if limited then users[#users + 1] = user; users[#users + 1] = tostring(qty) end
    end
  end
  if units > 0 and redis.call('EXISTS', stock) == 1 then
    redis.call('HINCRBY', stock, 'held', -units)
    redis.call('HINCRBY', stock, 'avail', units)
  end
  return found, users
end
`;

/**
 * KEYS stock, holds, expiry. ARGV holdId… Ends reservations once: units back to the pool.
 * Returns {found, epoch, user, qty, user, qty…}: the allowances to give back under that stock epoch.
 */
export const DROP = new RedisScript(
  'leased_drop',
  `${PARSE_HOLD}${GIVE_BACK}
for i = 1, #ARGV do redis.call('ZREM', KEYS[3], ARGV[i]) end
local found, users = give_back(KEYS[1], KEYS[2], ARGV)
local out = {found, redis.call('HGET', KEYS[1], 'epoch') or '-1'}
for _, v in ipairs(users) do out[#out + 1] = v end
return out
`,
);

/**
 * KEYS stock, holds, expiry. ARGV now, max. Expires up to `max` reservations due by `now`, each once.
 * Returns {expired, more, epoch, user, qty…} (more = 1: the batch was full, sweep again).
 */
export const SWEEP = new RedisScript(
  'leased_sweep',
  `${PARSE_HOLD}${GIVE_BACK}
local due = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
for _, hold in ipairs(due) do redis.call('ZREM', KEYS[3], hold) end
local found, users = give_back(KEYS[1], KEYS[2], due)
local out = {found, #due == tonumber(ARGV[2]) and 1 or 0, redis.call('HGET', KEYS[1], 'epoch') or '-1'}
for _, v in ipairs(users) do out[#out + 1] = v end
return out
`,
);

// The Lua scripts of the redis-lua stock store. Each runs atomically on one hash slot (see keys.ts);
// each takes a batch, so concurrent takes for one SKU can share one round trip (RedisLuaStock batches
// them when asked; a single take is a batch of one).
import { MY_NODE, OTHER_NODE } from './node-lua.ts';
import { RedisScript } from './script.ts';

// Hold records: qty|limited|keyLength|key..userId — lengths, not separators, since keys and user ids are
// arbitrary text.
export const PARSE_HOLD = `
local function parse_hold(h)
  local a = string.find(h, '|', 1, true)
  local b = string.find(h, '|', a + 1, true)
  local c = string.find(h, '|', b + 1, true)
  local klen = tonumber(string.sub(h, b + 1, c - 1))
  return tonumber(string.sub(h, 1, a - 1)), string.sub(h, a + 1, b - 1) == '1', string.sub(h, c + 1, c + klen), string.sub(h, c + klen + 1)
end
`;

/**
 * KEYS stock, users, keys, holds. ARGV n, then per take: qty, userId, limit, key ('' = none), fingerprint, holdId.
 * Returns code, value per take: taken epoch | sold_out | limit | replay holdId|answer | mismatch | missing | duplicate_hold.
 * 'missing' also when the stock hash was loaded on another node (a replica promoted since: node-lua.ts).
 * Order of checks as the in-process service: the key first (a retry must replay, not be refused), then
 * stock (sold-out is the common answer), then the user's limit.
 */
export const TAKE = new RedisScript(
  'take',
  `${OTHER_NODE}
local stock, users, idem, holds = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local n = tonumber(ARGV[1])
local out = {}
local got = redis.call('HMGET', stock, 'avail', 'epoch', 'node')
local avail, epoch = got[1], got[2]
if not avail or other_node(stock, got[3]) then
  for i = 1, n do out[#out + 1] = 'missing'; out[#out + 1] = '' end
  return out
end
avail = tonumber(avail)
local taken = 0
for i = 0, n - 1 do
  local b = 1 + i * 6
  local qty, user, limit, key, fp, hold = tonumber(ARGV[b + 1]), ARGV[b + 2], tonumber(ARGV[b + 3]), ARGV[b + 4], ARGV[b + 5], ARGV[b + 6]
  local code, value = 'taken', epoch
  local seen = false
  if key ~= '' then seen = redis.call('HGET', idem, key) end
  if seen then
    local bar = string.find(seen, '|', 1, true)
    if string.sub(seen, 1, bar - 1) ~= fp then code, value = 'mismatch', '' else code, value = 'replay', string.sub(seen, bar + 1) end
  elseif avail < qty then
    code, value = 'sold_out', ''
  elseif redis.call('HEXISTS', holds, hold) == 1 then
    code, value = 'duplicate_hold', ''
  else
    local ok = true
    if limit > 0 then
      local had = tonumber(redis.call('HGET', users, user) or '0')
      if had + qty > limit then ok = false else redis.call('HINCRBY', users, user, qty) end
    end
    if not ok then
      code, value = 'limit', ''
    else
      avail = avail - qty
      taken = taken + qty
      redis.call('HSET', holds, hold, qty .. '|' .. (limit > 0 and '1' or '0') .. '|' .. #key .. '|' .. key .. user)
      if key ~= '' then redis.call('HSET', idem, key, fp .. '|' .. hold .. '|') end
    end
  end
  out[#out + 1] = code
  out[#out + 1] = value
end
if taken > 0 then
  redis.call('HSET', stock, 'avail', avail)
  redis.call('HINCRBY', stock, 'held', taken)
end
return out
`,
);

/** KEYS stock, users, keys, holds. ARGV n, then holdId, answer per order. Returns how many holds it found. */
export const CONFIRM = new RedisScript(
  'confirm',
  `${PARSE_HOLD}
local stock, idem, holds = KEYS[1], KEYS[3], KEYS[4]
local n = tonumber(ARGV[1])
local units, found = 0, 0
for i = 0, n - 1 do
  local hold, answer = ARGV[2 + i * 2], ARGV[3 + i * 2]
  local h = redis.call('HGET', holds, hold)
  if h then
    local qty, limited, key = parse_hold(h)
    redis.call('HDEL', holds, hold)
    units = units + qty
    found = found + 1
    if key ~= '' then
      local seen = redis.call('HGET', idem, key)
      if seen then
        local bar = string.find(seen, '|', 1, true)
        redis.call('HSET', idem, key, string.sub(seen, 1, bar) .. hold .. '|' .. answer)
      end
    end
  end
end
if units > 0 and redis.call('EXISTS', stock) == 1 then
  redis.call('HINCRBY', stock, 'held', -units)
  redis.call('HINCRBY', stock, 'sold', units)
end
return found
`,
);

/** KEYS stock, users, keys, holds. ARGV n, then holdIds. Units, allowances and keys go back. Returns how many holds it found. */
export const RELEASE = new RedisScript(
  'release',
  `${PARSE_HOLD}
local stock, users, idem, holds = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local n = tonumber(ARGV[1])
local units, found = 0, 0
for i = 1, n do
  local hold = ARGV[1 + i]
  local h = redis.call('HGET', holds, hold)
  if h then
    local qty, limited, key, user = parse_hold(h)
    redis.call('HDEL', holds, hold)
    units = units + qty
    found = found + 1
    if limited and redis.call('HINCRBY', users, user, -qty) <= 0 then redis.call('HDEL', users, user) end
    if key ~= '' then redis.call('HDEL', idem, key) end
  end
end
if units > 0 and redis.call('EXISTS', stock) == 1 then
  redis.call('HINCRBY', stock, 'held', -units)
  redis.call('HINCRBY', stock, 'avail', units)
end
return found
`,
);

/**
 * Rebuild, in phases so a big sale's users and keys go in chunks while takes see 'missing':
 *   begin epoch wipeShared — refused (0) if this or a newer epoch is loaded or loading; wipes the SKU's keys
 *   put epoch target(users|keys) field value… — refused unless this epoch is the one loading
 *   put epoch holds (holdId record expiresAt)… — open reservations (needs KEYS[8], the expiry set)
 *   end epoch initial avail held sold — writes the stock hash (takes resume) with the id of the node it
 *                                       runs on (node-lua.ts: the failover fence), drops the loading mark
 * KEYS stock, users, keys, holds, leases, deadlines, loading[, expiry] (redis-leased keeps no reservations: no expiry key).
 */
export const LOAD = new RedisScript(
  'load',
  `${MY_NODE}
local stock, users, idem, holds, leases, deadlines, loading, expiry = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7], KEYS[8]
local phase, epoch = ARGV[1], tonumber(ARGV[2])
if phase == 'begin' then
  local have = tonumber(redis.call('HGET', stock, 'epoch') or '-1')
  local other = tonumber(redis.call('GET', loading) or '-1')
  if have >= epoch or other > epoch then return 0 end
  redis.call('DEL', stock, holds, leases, deadlines)
  if expiry then redis.call('DEL', expiry) end
  if ARGV[3] == '1' then redis.call('DEL', users, idem) end
  redis.call('SET', loading, epoch)
  return 1
end
if tonumber(redis.call('GET', loading) or '-1') ~= epoch then return 0 end
if phase == 'put' and ARGV[3] == 'holds' then
  for i = 4, #ARGV, 3 do
    redis.call('HSET', holds, ARGV[i], ARGV[i + 1])
    redis.call('ZADD', expiry, ARGV[i + 2], ARGV[i])
  end
  return 1
end
if phase == 'put' then
  local target = ARGV[3] == 'users' and users or idem
  for i = 4, #ARGV, 2 do redis.call('HSET', target, ARGV[i], ARGV[i + 1]) end
  return 1
end
redis.call('HSET', stock, 'initial', ARGV[3], 'avail', ARGV[4], 'held', ARGV[5], 'sold', ARGV[6], 'epoch', epoch, 'leased', 0, 'node', my_node())
redis.call('DEL', loading)
return 1
`,
);

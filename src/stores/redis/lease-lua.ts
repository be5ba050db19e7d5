// The Lua scripts of redis-leased. The SKU's pool lives under its own tag (keys.ts skuKeys); a process
// ("owner") leases units in batches and sells them from its own memory, so the pool is touched once per
// batch instead of once per sale. Users' counts and keys live under each user's own tag, per stock epoch
// (a rebuild writes a new epoch's keys before any process can use them), so a sale-wide limit is held
// exactly and users spread over a cluster's shards.
import { MY_NODE, OTHER_NODE } from './node-lua.ts';
import { RedisScript } from './script.ts';

/**
 * KEYS stock, leases, deadlines. ARGV owner, need, batch, owners, ttlMs, unsold.
 * Renews the caller's deadline, records its unsold units (for snapshots), and grants up to
 * max(need, batch) units (batch shrinks to ceil(pool / owners) as the pool runs low, so the last units
 * spread out). With need > 0 and too few units in the pool while others hold leases, marks the SKU
 * draining: every live owner returns its unsold units at its next renewal, and while draining grants are
 * exactly what is needed. Draining ends when the pool can serve every owner again.
 * A lease whose deadline passed (its owner died or was cut off) is NOT taken back here: Redis does not
 * know how much of it was sold after the owner's last report, only the ledger does. Its units are
 * reported as `expired`; a rebuild from the ledger recovers them exactly (RedisLeasedStock answers
 * 'missing' at sell-out while expired leases hold units).
 * Returns {'ok', granted, epoch, pool, othersUnsold, draining, expiredUnsold} or {'missing'} (no stock, or
 * stock loaded on another node — a replica promoted since, its pool maybe stale: node-lua.ts).
 */
export const LEASE = new RedisScript(
  'lease',
  `${OTHER_NODE}
local stock, leases, deadlines = KEYS[1], KEYS[2], KEYS[3]
local owner, need, batch, owners, ttl, unsold = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
local got = redis.call('HMGET', stock, 'avail', 'node')
if not got[1] or other_node(stock, got[2]) then return {'missing'} end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local pool = tonumber(got[1])
-- Other owners' unsold units as each last reported them (a report only overstates: between reports an
-- owner only sells), split by whether the owner is still renewing.
local others, expired = 0, 0
local all = redis.call('HGETALL', deadlines)
for i = 1, #all, 2 do
  if all[i] ~= owner then
    local u = tonumber(redis.call('HGET', leases, all[i] .. ':unsold') or '0')
    if tonumber(all[i + 1]) < now then expired = expired + u else others = others + u end
  end
end
redis.call('HSET', deadlines, owner, now + ttl)
local draining = redis.call('HGET', stock, 'draining') == '1'
local grant = 0
if need > 0 and pool > 0 then
  grant = math.min(pool, math.max(need, math.min(batch, math.ceil(pool / owners))))
  if draining then grant = math.min(pool, need) end
end
if grant > 0 then
  pool = pool - grant
  redis.call('HINCRBY', leases, owner, grant)
  redis.call('HINCRBY', stock, 'leased', grant)
  redis.call('HSET', stock, 'avail', pool)
end
redis.call('HSET', leases, owner .. ':unsold', unsold + grant)
if need > 0 and grant < need and others > 0 and not draining then draining = true; redis.call('HSET', stock, 'draining', '1') end
if draining and pool >= owners * batch then draining = false; redis.call('HDEL', stock, 'draining') end
return {'ok', grant, redis.call('HGET', stock, 'epoch'), pool, others, draining and 1 or 0, expired}
`,
);

/**
 * KEYS stock, leases, deadlines. ARGV owner, units, epoch, leaving. The owner gives back ALL its unsold
 * units (draining, shutting down): `units` is what it took out of its own lease, so its unsold count is 0
 * after. Leaving ('1'), it also drops out of the owners (its lease then counts only units it sold).
 * Ignored (-1) if the epoch moved on: a rebuild already counted them. Returns the pool after.
 */
export const RETURN = new RedisScript(
  'return',
  `
local stock, leases, deadlines = KEYS[1], KEYS[2], KEYS[3]
local owner, units, epoch, leaving = ARGV[1], tonumber(ARGV[2]), ARGV[3], ARGV[4] == '1'
if redis.call('HGET', stock, 'epoch') ~= epoch or redis.call('HEXISTS', deadlines, owner) == 0 then return -1 end
redis.call('HSET', leases, owner .. ':unsold', 0)
if leaving then redis.call('HDEL', deadlines, owner); redis.call('HDEL', leases, owner .. ':unsold') end
if units == 0 then return tonumber(redis.call('HGET', stock, 'avail')) end
redis.call('HINCRBY', leases, owner, -units)
redis.call('HINCRBY', stock, 'leased', -units)
return redis.call('HINCRBY', stock, 'avail', units)
`,
);

/**
 * KEYS units, keys (one user's, one epoch), mark (the sale's marker in their slot: keys.ts userMarkKey).
 * ARGV qty, limit, key, fingerprint, holdId, peek, epoch.
 * The per-purchase part of redis-leased: the marker first, then the key (replay or mismatch), then the limit.
 * With peek = 1 only the key is looked at (a sold-out answer must still replay a keyed retry).
 * 'missing' when the marker is gone or older than `epoch`: the master holding this slot lost its data
 * (restarted empty) since the rebuild that wrote it, and with it this user's count and keys — a rebuild
 * from the ledger must put them back. Also when the marker names another node than this one (a cluster's
 * markers are `epoch|node id`, MARK): a replica promoted since, whose users' counts and keys may be stale
 * (node-lua.ts). A marker newer than `epoch` is a rebuild since the caller's lease: not missing (the ledger
 * refuses the old epoch's order; the caller adopts the new epoch at its next LEASE).
 * Returns code, value: ok | none | limit | replay holdId|answer | mismatch | missing.
 */
export const CLAIM = new RedisScript(
  'lease_claim',
  `${OTHER_NODE}
local units, idem, mark = KEYS[1], KEYS[2], KEYS[3]
local qty, limit, key, fp, hold, peek = tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3], ARGV[4], ARGV[5], ARGV[6]
local m = redis.call('GET', mark) or '-1'
local bar = string.find(m, '|', 1, true)
if tonumber(bar and string.sub(m, 1, bar - 1) or m) < tonumber(ARGV[7]) then return {'missing', ''} end
if bar and other_node(mark, string.sub(m, bar + 1)) then return {'missing', ''} end
if key ~= '' then
  local seen = redis.call('HGET', idem, key)
  if seen then
    local bar = string.find(seen, '|', 1, true)
    if string.sub(seen, 1, bar - 1) ~= fp then return {'mismatch', ''} end
    return {'replay', string.sub(seen, bar + 1)}
  end
end
if peek == '1' then return {'none', ''} end
if limit > 0 then
  local had = tonumber(redis.call('GET', units) or '0')
  if had + qty > limit then return {'limit', ''} end
  redis.call('INCRBY', units, qty)
end
if key ~= '' then redis.call('HSET', idem, key, fp .. '|' .. hold .. '|') end
return {'ok', ''}
`,
);

/** KEYS units, keys. ARGV qty, limited, key, holdId, answer, mode ('confirm' | 'release'). */
export const SETTLE = new RedisScript(
  'settle',
  `
local units, idem = KEYS[1], KEYS[2]
local qty, limited, key, hold, answer, mode = tonumber(ARGV[1]), ARGV[2] == '1', ARGV[3], ARGV[4], ARGV[5], ARGV[6]
if mode == 'confirm' then
  if key ~= '' then
    local seen = redis.call('HGET', idem, key)
    if seen then
      local bar = string.find(seen, '|', 1, true)
      if string.sub(seen, bar + 1, bar + #hold + 1) == hold .. '|' then redis.call('HSET', idem, key, string.sub(seen, 1, bar) .. hold .. '|' .. answer) end
    end
  end
  return 1
end
if key ~= '' then
  local seen = redis.call('HGET', idem, key)
  if not seen then return 0 end
  local bar = string.find(seen, '|', 1, true)
  if string.sub(seen, bar + 1, bar + #hold + 1) ~= hold .. '|' then return 0 end
  redis.call('HDEL', idem, key)
end
if limited and redis.call('DECRBY', units, qty) <= 0 then redis.call('DEL', units) end
return 1
`,
);

/**
 * KEYS mark (one slot's marker). ARGV epoch. A rebuild on a cluster writes each slot's marker through this:
 * `epoch|id of the node holding the slot`, which CLAIM checks (one server: plain MSETs of the epoch).
 */
export const MARK = new RedisScript(
  'lease_mark',
  `${MY_NODE}
redis.call('SET', KEYS[1], ARGV[1] .. '|' .. my_node())
return 1
`,
);

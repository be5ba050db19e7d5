// The node fence, shared by every script that takes or holds units (lua.ts TAKE, reserve-lua.ts RESERVE and
// CLAIM, lease-lua.ts LEASE, leased-reserve-lua.ts HOLD) and written by LOAD; and by redis-leased's per-user
// CLAIM, whose slot markers (written by MARK) name their node the same way; and by PEEK, the stores' reads.
//
// Why: on a Redis Cluster with replicas, a master killed while its replica lagged is replaced by that
// replica with the stock as it was some writes ago — under the same stock epoch, so nothing else tells it
// apart. Measured before this fence (test/stores-cluster-failover.test.ts): the master killed -9 after 25
// of 50 units, and 83 units were sold in all on redis-lua, 90 on redis-leased (docs/stores.md "Failover").
// So LOAD records, in the SKU's stock hash (field `node`), the
// id of the node it ran on (`CLUSTER MYID`, allowed in scripts on Redis 7); the hash is replicated with
// that id in it. A script that finds another node's id in the hash runs on a node that took the slot over
// without a rebuild: it drops the stock hash and answers 'missing', and the service's usual path rebuilds
// the SKU from the PostgreSQL ledger (initial − sold − open holds), which records the rebuilding node.
//
// On one server (no cluster) LOAD records '' and the check is one more field in a read the script makes
// anyway: no CLUSTER call at all. A hash loaded before this fence has no `node` field: not checked.

import { RedisScript } from './script.ts';

/**
 * my_node(): this node's cluster id, or '' on a server without cluster support. Any other error (a cluster
 * whose scripts may not call CLUSTER MYID) raises, failing the LOAD with its reason before it writes the
 * stock: a stock that cannot be fenced is not loaded, rather than sold unfenced.
 */
export const MY_NODE = `
local function my_node()
  local id = redis.pcall('CLUSTER', 'MYID')
  if type(id) == 'string' then return id end
  local why = type(id) == 'table' and id.err or tostring(id)
  if string.find(why, 'cluster support disabled', 1, true) then return '' end
  error('flashsale: CLUSTER MYID in a script failed (' .. why .. '): the stock cannot be fenced against a stale replica promoted in a failover')
end
`;

/**
 * other_node(key, node): true when `node` (read from `key`: the stock hash's `node` field, false when
 * absent; or the node part of redis-leased's slot marker) names another node than this one; `key` is then
 * dropped, and the caller answers 'missing'.
 */
export const OTHER_NODE = `
local function other_node(key, node)
  if not node or node == '' then return false end
  if node == redis.call('CLUSTER', 'MYID') then return false end
  redis.call('DEL', key)
  return true
end
`;

/**
 * PEEK: a stock hash's fields (ARGV), read through the fence: a hash that names another node is dropped and
 * answers nil, as if missing. Without it, a read after a failover (GET /inventory, the audit's stock view,
 * the start-up check) would show the stale replica's stock until the next take met the fence; now the read
 * itself sends the service to rebuild. KEYS[1]: the stock hash. Answers the fields in ARGV's order, or nil.
 */
export const PEEK = new RedisScript(
  'peek',
  `${OTHER_NODE}
local v = redis.call('HMGET', KEYS[1], 'node', unpack(ARGV))
if other_node(KEYS[1], v[1]) then return false end
table.remove(v, 1)
return v
`,
);

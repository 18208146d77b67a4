"""The Redis queue's keys and its Lua scripts: each step of a ticket is one atomic script.

Keys, under a namespace (`pocketchat:queue:` by default), per host key `H`:
- `seq`: the INCR counter that numbers tickets (shared by every host): a ticket's id is its
  place in line.
- `line:H`: a sorted set of the host's live tickets (waiting and holding), scored by id.
- `holding:H`: a set of the ids that hold a slot.
- `t:<id>`: a hash per ticket: host, owner, state, created_at, granted_at, heartbeat_at, pid,
  started, machine (the fields of `TicketRow`; '' for None).
- `holds:H`: a list of the last `HISTORY` hold durations (seconds), newest first.
- `hosts`: the set of host keys that ever had a ticket (for `queue status`).
- `wake:H`: a pub/sub channel; a release or a reap publishes on it, waiters listen.
Times are the Redis server's clock (`TIME`), so machines whose clocks differ agree on leases.
Scripts build ticket keys from the namespace, so they need one Redis (not Redis Cluster).
"""

from __future__ import annotations

NOW = "local t = redis.call('TIME') local now = tostring(tonumber(t[1]) + tonumber(t[2]) / 1e6)\n"

# KEYS: seq, line, holding, hosts. ARGV: namespace, host, slots, owner, pid, started, machine
JOIN = (
    NOW
    + """
local id = redis.call('INCR', KEYS[1])
local ahead = redis.call('ZCARD', KEYS[2])
local served = ahead < tonumber(ARGV[3])
redis.call('ZADD', KEYS[2], id, id)
local state, granted = 'waiting', ''
if served then
  state, granted = 'holding', now
  redis.call('SADD', KEYS[3], id)
end
redis.call('HSET', ARGV[1] .. 't:' .. id, 'host', ARGV[2], 'owner', ARGV[4], 'state', state,
  'created_at', now, 'granted_at', granted, 'heartbeat_at', now, 'pid', ARGV[5],
  'started', ARGV[6], 'machine', ARGV[7])
redis.call('SADD', KEYS[4], ARGV[2])
return {id, ahead, served and 1 or 0}
"""
)

# KEYS: line. ARGV: namespace, the highest score to read ('(<id>' or '+inf').
# Returns {now, {id, field, value, ...}, ...}: the tickets in line order, with the server's time.
PEEK = (
    NOW
    + """
local out = {now}
for _, id in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[2])) do
  local row = redis.call('HGETALL', ARGV[1] .. 't:' .. id)
  table.insert(row, 1, id)
  table.insert(out, row)
end
return out
"""
)

# KEYS: line, holding. ARGV: namespace, id, slots, host, owner, pid, started, machine.
# Returns {0, now} once served, else {position among the waiting, now}.
GRANT = (
    NOW
    + """
local key = ARGV[1] .. 't:' .. ARGV[2]
if redis.call('ZSCORE', KEYS[1], ARGV[2]) == false then
  -- a waiting ticket cleared from another machine (its beats were late) comes back in place
  redis.call('ZADD', KEYS[1], ARGV[2], ARGV[2])
  redis.call('HSET', key, 'host', ARGV[4], 'owner', ARGV[5], 'state', 'waiting',
    'created_at', now, 'granted_at', '', 'heartbeat_at', now, 'pid', ARGV[6],
    'started', ARGV[7], 'machine', ARGV[8])
end
local rank = redis.call('ZRANK', KEYS[1], ARGV[2])
local slots = tonumber(ARGV[3])
if rank < slots then
  if redis.call('SADD', KEYS[2], ARGV[2]) == 1 then
    redis.call('HSET', key, 'state', 'holding', 'granted_at', now, 'heartbeat_at', now)
  end
  return {0, now}
end
return {rank - slots + 1, now}
"""
)

# ARGV: namespace, ids... Returns the ids still in the queue (their heartbeat renewed).
BEAT = (
    NOW
    + """
local present = {}
for i = 2, #ARGV do
  local key = ARGV[1] .. 't:' .. ARGV[i]
  if redis.call('EXISTS', key) == 1 then
    redis.call('HSET', key, 'heartbeat_at', now)
    table.insert(present, ARGV[i])
  end
end
return present
"""
)

# KEYS: line, holding, holds, wake. ARGV: namespace, id, held seconds ('' = none), history.
LEAVE = """
local removed = redis.call('ZREM', KEYS[1], ARGV[2])
redis.call('SREM', KEYS[2], ARGV[2])
redis.call('DEL', ARGV[1] .. 't:' .. ARGV[2])
if ARGV[3] ~= '' then
  redis.call('LPUSH', KEYS[3], ARGV[3])
  redis.call('LTRIM', KEYS[3], 0, tonumber(ARGV[4]) - 1)
end
redis.call('PUBLISH', KEYS[4], ARGV[2])
return removed
"""

# KEYS: line, holding, wake. ARGV: namespace, then pairs (id, the heartbeat_at it was judged
# by, compared as numbers; '' = no hash). A ticket is removed only if it has not beaten since:
# a beat in between means its process is there after all. Returns the removed ids.
REAP = """
local removed = {}
for i = 2, #ARGV, 2 do
  local id, seen = ARGV[i], ARGV[i + 1]
  local key = ARGV[1] .. 't:' .. id
  local beat = redis.call('HGET', key, 'heartbeat_at')
  if (beat == false and seen == '') or (beat and tonumber(beat) == tonumber(seen)) then
    redis.call('ZREM', KEYS[1], id)
    redis.call('SREM', KEYS[2], id)
    redis.call('DEL', key)
    table.insert(removed, id)
  end
end
if #removed > 0 then
  redis.call('PUBLISH', KEYS[3], 'reaped')
end
return removed
"""


class Keys:
    """The key names of one namespace and host."""

    def __init__(self, namespace: str, host: str) -> None:
        self.namespace = namespace
        self.seq = f"{namespace}seq"
        self.hosts = f"{namespace}hosts"
        self.line = f"{namespace}line:{host}"
        self.holding = f"{namespace}holding:{host}"
        self.holds = f"{namespace}holds:{host}"
        self.wake = f"{namespace}wake:{host}"

    def ticket(self, ticket_id: int) -> str:
        return f"{self.namespace}t:{ticket_id}"

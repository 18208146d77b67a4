"""The line of waiting runs shared by every replica, in Redis (`queue.url`).

Keys under `pocketchat:serve:` — `ring` (a list of the keys with waiting runs, the next one to
serve first), `line:{key}` (a key's waiting run ids, oldest first), `jobs` (run id -> the job,
JSON), `told` (run id -> the last position announced), `taken` (run id -> the job, while a
replica runs it), `lease:{run}` (the replica running it, expiring after
`queue.ticket_ttl_seconds` unless renewed), `dead:{run}` (the one replica that deals with a run
whose replica died: it goes back in line when nothing of its reply was said, else it ends).
Every step that reads and writes is one Lua script, so two replicas never take the same run
and the round-robin holds across them: `take` pops the next key's oldest run, rotates the key
to the back while it has more, and leases the run to the taker in the same step. A single
Redis (not a cluster): the scripts touch keys they compute.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from typing import Any

from serve.jobs import Job

PREFIX = "pocketchat:serve"

PUT = """
local p, key, run = ARGV[1], ARGV[2], ARGV[3]
local line = p .. ':line:' .. key
if redis.call('LLEN', line) == 0 then redis.call('RPUSH', p .. ':ring', key) end
redis.call('RPUSH', line, run)
redis.call('HSET', p .. ':jobs', run, ARGV[4])
return 1
"""

TAKE = """
local p = ARGV[1]
while true do
  local key = redis.call('LPOP', p .. ':ring')
  if not key then return false end
  local line = p .. ':line:' .. key
  local run = redis.call('LPOP', line)
  if run then
    if redis.call('LLEN', line) > 0 then redis.call('RPUSH', p .. ':ring', key) end
    local job = redis.call('HGET', p .. ':jobs', run)
    local told = redis.call('HGET', p .. ':told', run)
    redis.call('HDEL', p .. ':jobs', run)
    redis.call('HDEL', p .. ':told', run)
    if job then redis.call('HSET', p .. ':taken', run, job) end
    redis.call('SET', p .. ':lease:' .. run, ARGV[2], 'PX', ARGV[3])
    return {run, job or '', told or ''}
  end
end
"""

REMOVE = """
local p, run = ARGV[1], ARGV[2]
local job = redis.call('HGET', p .. ':jobs', run)
if not job then return false end
for _, key in ipairs(redis.call('LRANGE', p .. ':ring', 0, -1)) do
  local line = p .. ':line:' .. key
  if redis.call('LREM', line, 1, run) > 0 then
    if redis.call('LLEN', line) == 0 then redis.call('LREM', p .. ':ring', 0, key) end
    break
  end
end
redis.call('HDEL', p .. ':jobs', run)
redis.call('HDEL', p .. ':told', run)
return job
"""

ORDER = """
local p = ARGV[1]
local lines, longest = {}, 0
for i, key in ipairs(redis.call('LRANGE', p .. ':ring', 0, -1)) do
  lines[i] = redis.call('LRANGE', p .. ':line:' .. key, 0, -1)
  if #lines[i] > longest then longest = #lines[i] end
end
local out = {}
for depth = 1, longest do
  for i = 1, #lines do
    if lines[i][depth] then out[#out + 1] = lines[i][depth] end
  end
end
return out
"""

# a position is announced once, and only lower (replicas may compute it a moment apart)
CLAIM_POSITIONS = """
local p, out = ARGV[1], {}
for i = 2, #ARGV, 2 do
  local run, pos = ARGV[i], tonumber(ARGV[i + 1])
  if redis.call('HEXISTS', p .. ':jobs', run) == 1 then
    local told = tonumber(redis.call('HGET', p .. ':told', run))
    if not told or pos < told then
      redis.call('HSET', p .. ':told', run, pos)
      out[#out + 1] = run
    end
  end
end
return out
"""

CLAIM_DEAD = """
local p, run = ARGV[1], ARGV[2]
if redis.call('HEXISTS', p .. ':jobs', run) == 1 then return false end
if redis.call('EXISTS', p .. ':lease:' .. run) == 1 then return false end
if not redis.call('SET', p .. ':dead:' .. run, ARGV[3], 'NX', 'PX', ARGV[4]) then return false end
local job = redis.call('HGET', p .. ':taken', run)
redis.call('HDEL', p .. ':taken', run)
return {job or ''}
"""

RELEASE = """
local p, run = ARGV[1], ARGV[2]
redis.call('DEL', p .. ':lease:' .. run)
redis.call('HDEL', p .. ':taken', run)
return 1
"""


def _key(key_id: str | None) -> str:
    return "-" if key_id is None else f"k{key_id}"


def _dump(job: Job) -> str:
    data: dict[str, Any] = asdict(job)
    data["queued_at"] = time.time() - (time.monotonic() - job.queued_at)  # wall clock
    return json.dumps(data)


def _load(text: str) -> Job:
    data = json.loads(text)
    data["queued_at"] = time.monotonic() - max(0.0, time.time() - data["queued_at"])
    return Job(**data)


class RedisQueue:
    shared = True

    def __init__(self, client: Any, lease_seconds: float, poll_seconds: float,
                 prefix: str = PREFIX) -> None:  # fmt: skip
        self.client = client
        self.prefix = prefix
        self.replica = uuid.uuid4().hex[:12]
        self.lease_ms = max(1, int(lease_seconds * 1000))
        self.poll = max(0.01, poll_seconds)
        self._closed = threading.Event()
        self._scripts = {name: client.register_script(body) for name, body in (
            ("put", PUT), ("take", TAKE), ("remove", REMOVE), ("order", ORDER),
            ("positions", CLAIM_POSITIONS), ("dead", CLAIM_DEAD),
            ("release", RELEASE))}  # fmt: skip

    def _run(self, name: str, *args: Any) -> Any:
        return self._scripts[name](keys=[], args=[self.prefix, *args])

    def __len__(self) -> int:
        return int(self.client.hlen(f"{self.prefix}:jobs"))

    @property
    def closed(self) -> bool:
        return self._closed.is_set()

    def put(self, job: Job) -> None:
        self._run("put", _key(job.key_id), job.run_id, _dump(job))

    def remove(self, run_id: str) -> Job | None:
        found = self._run("remove", run_id)
        return _load(found) if found else None

    def wait_ready(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while not self._closed.is_set():
            if self.client.llen(f"{self.prefix}:ring"):
                return True
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            self._closed.wait(min(self.poll, left))
        return True

    def take(self) -> tuple[Job, int | None] | None:
        if self._closed.is_set():
            return None
        found = self._run("take", self.replica, self.lease_ms)
        if not found or not found[1]:
            return None
        told = int(found[2]) if found[2] else None
        return _load(found[1]), told

    def order(self) -> list[str]:
        return [str(run_id) for run_id in self._run("order")]

    def claim_positions(self, wanted: Mapping[str, int]) -> list[tuple[str, int]]:
        if not wanted:
            return []
        args = [item for run_id, pos in wanted.items() for item in (run_id, pos)]
        return [(str(run_id), wanted[str(run_id)]) for run_id in self._run("positions", *args)]

    def drain(self) -> list[Job]:
        self._closed.set()
        return []  # the waiting runs stay in line for the other replicas (or the next start)

    def renew(self, run_ids: Sequence[str]) -> None:
        if not run_ids:
            return
        pipe = self.client.pipeline(transaction=False)
        for run_id in run_ids:
            pipe.set(f"{self.prefix}:lease:{run_id}", self.replica, px=self.lease_ms)
        pipe.execute()

    def release(self, run_id: str) -> None:
        self._run("release", run_id)

    def claim_dead(self, run_id: str) -> tuple[bool, Job | None]:
        found = self._run("dead", run_id, self.replica, self.lease_ms * 2)
        if not found:
            return False, None
        return True, (_load(found[0]) if found[0] else None)

    def close(self) -> None:
        self._closed.set()
        self.client.close()  # the bus, which shares it, is closed first

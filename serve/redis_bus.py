"""`RedisBus`: replicas tell each other about runs over Redis pub/sub (`queue.url`).

One channel, `pocketchat:serve:bus`; a message is JSON, `{"from": replica, "wake": [run ids]}`
after events were stored, or `{"from": replica, "cancel": run id}`. A thread per replica
listens and hands the others' messages on (its own it has already acted on). Pub/sub keeps
nothing: a message sent while a replica was reconnecting is gone — which costs a follower at
most `recheck_seconds`, since it re-reads the stored log that often anyway.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Sequence
from typing import Any

import structlog

from serve.bus import Cancel, Wake

log = structlog.get_logger()

CHANNEL = "pocketchat:serve:bus"
RECHECK_SECONDS = 1.0


class RedisBus:
    def __init__(self, client: Any, channel: str = CHANNEL,
                 recheck_seconds: float = RECHECK_SECONDS) -> None:  # fmt: skip
        self.client = client
        self.channel = channel
        self.recheck_seconds: float | None = recheck_seconds
        self.replica = uuid.uuid4().hex[:12]
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self, wake: Wake, cancel: Cancel) -> None:
        pubsub = self.client.pubsub(ignore_subscribe_messages=True)
        pubsub.subscribe(self.channel)  # subscribed before start() returns: nothing missed
        self._thread = threading.Thread(target=self._listen, args=(pubsub, wake, cancel),
                                        name="run-bus", daemon=True)  # fmt: skip
        self._thread.start()

    def announce(self, run_ids: Sequence[str]) -> None:
        self._send({"wake": list(run_ids)})

    def cancel(self, run_id: str) -> None:
        self._send({"cancel": run_id})

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)

    def _send(self, message: dict[str, Any]) -> None:
        try:
            self.client.publish(self.channel, json.dumps({"from": self.replica, **message}))
        except Exception as exc:  # news only: the followers re-read the store anyway
            log.warning("run_bus_send_failed", error=type(exc).__name__)

    def _listen(self, pubsub: Any, wake: Wake, cancel: Cancel) -> None:
        while not self._stop.is_set():
            try:
                message = pubsub.get_message(timeout=0.5)
                if message is None:
                    continue
                body = json.loads(message["data"])
                if "cancel" in body:
                    cancel(str(body["cancel"]))  # the sender may run it too: it stopped its own
                elif body.get("from") != self.replica:
                    wake([str(run_id) for run_id in body.get("wake", [])])
            except Exception as exc:  # a dropped connection: redis-py resubscribes on reuse
                log.warning("run_bus_listen_failed", error=type(exc).__name__)
                self._stop.wait(0.5)
        pubsub.close()

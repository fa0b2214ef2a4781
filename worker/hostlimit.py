"""Per-host concurrency: at most N requests in flight per host, shared by every worker.

Embedded mode shares a semaphore per host inside the one process; distributed mode keeps the
slots in Redis (a sorted set of leases per host), so every Celery worker on every machine counts
against the same limit. Leases expire, so a killed worker cannot hold a slot forever.
"""

from __future__ import annotations

import random
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from wirewatch.errors import FetchError

# Waiting for a slot longer than this means the host is saturated: give the work back for later.
MAX_WAIT = 60.0

_ACQUIRE = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[2]) then
    redis.call('ZADD', KEYS[1], ARGV[3], ARGV[4])
    redis.call('EXPIRE', KEYS[1], ARGV[5])
    return 1
end
return 0
"""


class LocalHostLimiter:
    """Semaphores per host inside one process."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._lock = threading.Lock()
        self._sems: dict[str, threading.BoundedSemaphore] = {}

    @contextmanager
    def slot(self, host: str, *, max_wait: float = MAX_WAIT) -> Iterator[None]:
        with self._lock:
            sem = self._sems.setdefault(host, threading.BoundedSemaphore(self.limit))
        if not sem.acquire(timeout=max_wait):
            raise FetchError(f"{host}: {self.limit} requests already in flight; retrying later")
        try:
            yield
        finally:
            sem.release()


class RedisHostLimiter:
    """Slots per host in Redis, leased for `lease` seconds (longer than any one request)."""

    def __init__(self, redis_client, limit: int, lease: float) -> None:  # noqa: ANN001
        self.redis = redis_client
        self.limit = limit
        self.lease = lease
        self._acquire = redis_client.register_script(_ACQUIRE)

    @contextmanager
    def slot(self, host: str, *, max_wait: float = MAX_WAIT) -> Iterator[None]:
        key = f"wirewatch:hostslots:{host}"
        token = uuid.uuid4().hex
        deadline = time.monotonic() + max_wait
        delay = 0.02
        while True:
            now = time.time()
            args = [now, self.limit, now + self.lease, token, int(self.lease) + 60]
            if self._acquire(keys=[key], args=args):
                break
            if time.monotonic() > deadline:
                raise FetchError(f"{host}: {self.limit} requests already in flight; retrying later")
            time.sleep(delay + random.uniform(0, delay))
            delay = min(delay * 2, 0.5)
        try:
            yield
        finally:
            self.redis.zrem(key, token)

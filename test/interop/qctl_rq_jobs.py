# Job functions for queuectl's RQ interop tests (Debian's python3-rq 1.13). QCTL_REDIS_URL picks
# the db; each job leaves a Redis key behind so a test can see it ran.
import os
import time

from redis import Redis


def _redis():
    return Redis.from_url(os.environ['QCTL_REDIS_URL'])


def set_key(key, value):
    _redis().set(key, value)
    return value


def boom(message):
    raise ValueError(message)


def fail_once(key):
    """Fails the first time (and remembers it), succeeds after a requeue."""
    if _redis().set(key, 'failed once', nx=True):
        raise RuntimeError('first attempt fails on purpose')
    _redis().set(key, 'ran again')
    return 'ok'


def block(key):
    """Stays running (started registry) until `key` exists, at most 60 s."""
    r = _redis()
    for _ in range(600):
        if r.exists(key):
            return 'released'
        time.sleep(0.1)
    return 'timed out'

"""One cache of compiled SQL for all the tests' engines of a worker.

SQLAlchemy compiles a statement once per engine: its cache key begins with the engine's dialect object, and an
engine's cache (like the ORM's per-mapper caches of INSERT/UPDATE/DELETE) starts cold. The platform keeps one
engine for its life, so it compiles each statement once; the tests make a new engine (and app) for every test,
and recompiled every statement in every test — about a fifth of the suite's CPU in a profile.

Here the key's dialect object is replaced by what a compiled statement depends on: the dialect's class and the
server's version (the tests' engines of one kind all talk to the same server, and none sets a dialect option
of its own: no JSON serialiser, no schema map). Everything else in the key is SQLAlchemy's own.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine.base import Engine
from sqlalchemy.orm import Mapper
from sqlalchemy.util import LRUCache


class SharedCompiledCache:
    """What SQLAlchemy asks of a compiled cache (``get``, item assignment), keyed across engines."""

    def __init__(self, size: int = 20000) -> None:
        self.entries: LRUCache[Any, Any] = LRUCache(size)

    @staticmethod
    def _key(key: tuple[Any, ...]) -> tuple[Any, ...]:
        dialect = key[0]
        return ((type(dialect), getattr(dialect, "server_version_info", None)), *key[1:])

    def get(self, key: tuple[Any, ...], default: Any = None) -> Any:
        return self.entries.get(self._key(key), default)

    def __setitem__(self, key: tuple[Any, ...], value: Any) -> None:
        self.entries[self._key(key)] = value

    def clear(self) -> None:
        self.entries.clear()

    def __len__(self) -> int:
        return len(self.entries)


SHARED = SharedCompiledCache()


def install() -> None:
    """Every engine made from now on, and every mapper's persistence statements, use ``SHARED``."""
    # an engine sets its own cache in __init__: the assignment is ignored
    Engine._compiled_cache = property(lambda self: SHARED, lambda self, value: None)  # type: ignore[assignment]
    # the ORM's unit of work passes ``base_mapper._compiled_cache`` (memoized per mapper)
    Mapper._compiled_cache = property(lambda self: SHARED)  # type: ignore[assignment,method-assign]

"""What a conversation needs of one build, computed once per build: an engine is one build's,
so a value kept per engine lives as long as that build is served and no longer."""

from __future__ import annotations

import functools
import threading
import weakref
from collections.abc import Callable
from typing import TypeVar

from kg.answer.engine import AnswerEngine

T = TypeVar("T")


def per_build(compute: Callable[[AnswerEngine], T]) -> Callable[[AnswerEngine], T]:
    """``compute(engine)`` once per engine; concurrent first calls keep the first result."""
    kept: weakref.WeakKeyDictionary[AnswerEngine, T] = weakref.WeakKeyDictionary()
    lock = threading.Lock()

    @functools.wraps(compute)
    def of(engine: AnswerEngine) -> T:
        with lock:
            found = kept.get(engine)
        if found is None:
            value = compute(engine)
            with lock:
                found = kept.setdefault(engine, value)
        return found

    return of

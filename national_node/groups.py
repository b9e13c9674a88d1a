"""Group commit: the work of concurrent callers done together, in one transaction.

As a transparency log sequences what arrives in batches, and as a database groups the commits that
wait for one flush, :class:`GroupCommit` gathers the items that callers of one process submit while a
group is being written, and runs them as the next group. A caller that finds no group running leads:
it runs the items queued so far (its own among them) and hands the lead to the oldest caller still
waiting, so every caller waits for at most the group in front of it and its own. Under no load a group
is one item and nobody waits; under load, one transaction (one counter lock, one log append, one
commit) serves many callers.

``run`` receives the items in arrival order and returns one outcome per item, in the same order: a
result, or the exception that caller gets. It must keep the items apart: one item's bad input is its
outcome, not a failure of the group (see :class:`national_node.coding.CodingAuthority`). Should
``run`` raise all the same, every caller of that group gets the exception.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

__all__ = ["GroupCommit"]

T = TypeVar("T")
R = TypeVar("R")


@dataclass(slots=True)
class _Slot(Generic[T]):
    item: T
    woken: threading.Event = field(default_factory=threading.Event)
    done: bool = False
    outcome: object = None


class GroupCommit(Generic[T, R]):
    """Runs the items of concurrent :meth:`submit` calls in groups of at most ``max_size``."""

    def __init__(
        self, run: Callable[[Sequence[T]], Sequence[R | BaseException]], *, max_size: int = 64
    ) -> None:
        if max_size < 1:
            raise ValueError(f"a group holds at least one item, not {max_size}")
        self._run, self._max_size = run, max_size
        self._lock = threading.Lock()
        self._queue: list[_Slot[T]] = []
        self._leading = False

    @property
    def waiting(self) -> int:
        """Items submitted and not yet taken into a group."""
        with self._lock:
            return len(self._queue)

    def submit(self, item: T) -> R:
        """``item``'s result, once the group that holds it is done (or its exception, raised)."""
        slot = _Slot(item)
        with self._lock:
            self._queue.append(slot)
            lead = not self._leading
            self._leading = True
        while not slot.done:
            if lead:
                self._lead()
            else:
                slot.woken.wait()
                slot.woken.clear()
                lead = True  # woken without an outcome: the lead was handed over
        if isinstance(slot.outcome, BaseException):
            raise slot.outcome
        return slot.outcome  # type: ignore[return-value]

    def _lead(self) -> None:
        """Run the oldest waiting items as one group, then hand the lead on (or give it up)."""
        with self._lock:
            group = self._queue[: self._max_size]
            del self._queue[: self._max_size]
        try:
            outcomes: Sequence[object] = self._run([slot.item for slot in group])
            if len(outcomes) != len(group):
                raise RuntimeError(f"a group of {len(group)} items gave {len(outcomes)} outcomes")
        except BaseException as error:  # noqa: BLE001 - every caller of the group is told
            outcomes = [error] * len(group)
        for slot, outcome in zip(group, outcomes, strict=True):
            slot.outcome, slot.done = outcome, True
        with self._lock:
            following = self._queue[0] if self._queue else None
            if following is None:
                self._leading = False
        for slot in group:
            slot.woken.set()
        if following is not None:
            following.woken.set()

"""Airbus's ordering limit across every replica: at most one ordering call (``POST /orders``,
``/feasibility``, ``/prices``) per ``interval`` and never two at once, per contract.

A lease in the provisioning service's database. Each turn is one small document, a *ticket*
``{_id: "<gate>:<n>", n, holder, acquired_at, expires_at, next_allowed_at, released_at}``: taking turn
``n + 1`` is inserting ticket ``n + 1`` once ticket ``n`` is released (or its holder's lease ran out) and
its ``next_allowed_at`` has passed. Two replicas that both see ticket ``n`` as the last one race on the
insert, and the unique ``_id`` lets exactly one of them win (the loser gets ``DuplicateKeyError`` and looks
again). A compare-and-set on one shared document would be simpler, but FerretDB checks a guarded update's
filter and applies it in two steps, so two replicas can both "win" it (/work/shared/FERRETDB.md: 38 of 50
trials lost an update); only a unique key is enforced atomically there, and it is on MongoDB too.

``next_allowed_at`` is set when the holder releases: ``released_at + interval``. A call reaches Airbus
somewhere between its start and its answer, so counting from the answer is what guarantees that Airbus
sees two calls at least ``interval`` apart. A holder that dies keeps the gate until its ``expires_at``
(the lease: longer than any call's time-out), then the next takes over. Times are the replicas' clocks
(seconds since the epoch), which must agree to well under a second (NTP). Old tickets are pruned."""

from __future__ import annotations

import asyncio
import logging
import random
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

log = logging.getLogger(__name__)

KEEP = 8  # tickets kept behind the newest (for operators reading the collection)


class TurnOver(TimeoutError):
    """The holder used its turn for longer than its lease allows: its call was cut short."""


class Turn:
    """One holder's turn. ``unused()``: no ordering call was made in it (a look-up found the order), so the
    next turn need not wait the interval after this one."""

    def __init__(self, not_before: float = 0.0) -> None:
        self.spent, self.not_before = True, not_before

    def unused(self) -> None:
        self.spent = False

    def next_allowed_at(self, now: float, interval: float) -> float:
        return now + interval if self.spent else self.not_before


class OrderingGate:
    def __init__(self, tickets: AsyncCollection, *, name: str = "airbus-ordering", interval: float = 1.0,
                 lease: float = 60.0, poll: float = 0.05, holder: str | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        self.tickets, self.name, self.interval, self.lease, self.poll = tickets, name, interval, lease, poll
        self.holder = holder or f"{uuid.uuid4().hex[:12]}"
        self.clock = clock
        self._local = asyncio.Lock()  # this process's callers take their turns one by one

    async def ensure_indexes(self) -> None:
        """The newest ticket of a gate is read by (gate, n) (what real MongoDB needs; FerretDB scans)."""
        await self.tickets.create_index([("gate", 1), ("n", -1)], name="gate_newest")

    @asynccontextmanager
    async def turn(self) -> AsyncIterator[Turn]:
        """Wait for this replica's turn, hold it while the body makes its ordering call, release it."""
        async with self._local:
            ticket, turn = await self._acquire()
            # the body ends before the lease does, so nobody takes the turn over while a call is in flight
            deadline = asyncio.timeout(max(0.0, ticket["expires_at"] - self.lease * 0.1 - self.clock()))
            try:
                async with deadline:
                    yield turn
            except TimeoutError as exc:
                if deadline.expired():
                    raise TurnOver(f"an Airbus ordering turn lasted longer than {self.lease * 0.9:g} s") from exc
                raise
            finally:
                await asyncio.shield(self._release(ticket, turn))

    async def _acquire(self) -> tuple[dict[str, Any], Turn]:
        while True:
            last = await self.tickets.find_one({"gate": self.name}, sort=[("n", -1)])
            now = self.clock()
            wait = self._wait(last, now)
            if wait > 0:
                await asyncio.sleep(min(wait, self.poll * (1 + random.random())))  # noqa: S311 (jitter)
                continue
            n = (last["n"] if last else 0) + 1
            ticket = {"_id": f"{self.name}:{n:012d}", "gate": self.name, "n": n, "holder": self.holder,
                      "acquired_at": now, "expires_at": now + self.lease, "next_allowed_at": None,
                      "released_at": None}
            try:
                await self.tickets.insert_one(ticket)
            except DuplicateKeyError:
                await asyncio.sleep(self.poll * random.random())  # noqa: S311 (jitter)
                continue
            # Seen late (a stall between the read and the insert longer than pruning keeps): a later turn
            # exists, so ours is not the newest and does not count.
            if await self.tickets.find_one({"gate": self.name, "n": {"$gt": n}}, projection={"_id": 1}):
                await self.tickets.delete_one({"_id": ticket["_id"], "holder": self.holder})
                continue
            if n % KEEP == 0:
                await self.tickets.delete_many({"gate": self.name, "n": {"$lt": n - KEEP}})
            return ticket, Turn(self._free_at(last))

    def _free_at(self, last: dict[str, Any] | None) -> float:
        if last is None:
            return 0.0
        if last.get("released_at") is None:
            return last["expires_at"] + self.interval
        return last.get("next_allowed_at") or 0.0

    def _wait(self, last: dict[str, Any] | None, now: float) -> float:
        """Seconds until the turn after ``last`` may be taken (0: now)."""
        if last is not None and last.get("released_at") is None:
            if now < last["expires_at"]:
                return last["expires_at"] - now  # held; polled, since it is usually released much sooner
            log.warning("Airbus ordering lease %s of %s expired unreleased: taken over", last["_id"], last["holder"])
        return max(0.0, self._free_at(last) - now)

    async def _release(self, ticket: dict[str, Any], turn: Turn) -> None:
        now = self.clock()
        update = {"$set": {"released_at": now, "next_allowed_at": turn.next_allowed_at(now, self.interval)}}
        for _ in range(3):  # FerretDB may ignore an update: check that it took
            try:
                result = await self.tickets.update_one({"_id": ticket["_id"], "holder": self.holder}, update)
            except Exception:  # the lease then runs out by itself
                log.exception("Airbus ordering lease %s could not be released", ticket["_id"])
                return
            if result.modified_count == 1:
                return
            if result.matched_count == 0:
                break
        log.warning("Airbus ordering lease %s was not released (it will expire)", ticket["_id"])


class LocalOrderingGate:
    """The same pacing within one process only (unit tests; a single replica without a database)."""

    def __init__(self, interval: float = 1.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.interval, self.clock = interval, clock
        self._lock = asyncio.Lock()
        self._next = 0.0

    @asynccontextmanager
    async def turn(self) -> AsyncIterator[Turn]:
        async with self._lock:
            wait = self._next - self.clock()
            if wait > 0:
                await asyncio.sleep(wait)
            turn = Turn(self._next)
            try:
                yield turn
            finally:
                self._next = turn.next_allowed_at(self.clock(), self.interval)

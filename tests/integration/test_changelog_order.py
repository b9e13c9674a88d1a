"""The change log never lets a reader skip a change, even with concurrent writers committing late.

The trap this guards against: with auto-increment ids, a writer that took id 7 but commits after the
writer that took id 8 lets a reader see 8 first; a reader that then polls ``id > 8`` never sees 7.
Here writers take their sequence number, then linger a random while before committing, as a slow
transaction would; a reader polls ``sequence > last`` throughout and must see every number, in order.
"""

from __future__ import annotations

import random
import threading
import time
from datetime import UTC, datetime

import pytest
from sqlmodel import select

from common.db import Database, migrate
from common.sync.sequences import take_number
from provincial_node.changelog import ChangeRow
from provincial_node.server import MIGRATIONS

pytestmark = [pytest.mark.integration, pytest.mark.postgres]


def _provoke(url: str, writers: int, per_writer: int) -> list[int]:
    db = Database(url, pool_size=writers + 2)
    migrate(db.engine, MIGRATIONS)
    seen: list[int] = []
    done = threading.Event()

    def write(seed: int) -> None:
        rng = random.Random(seed)
        for _ in range(per_writer):
            with db.transaction() as session:
                number = take_number(session, "changes")
                session.add(
                    ChangeRow(
                        sequence=number,
                        uid=f"u-{number}",
                        revision=1,
                        record=b"",
                        committed_at=datetime.now(UTC),
                    )
                )
                session.flush()
                time.sleep(rng.uniform(0, 0.01))  # commit late, while others want numbers too

    def read() -> None:
        last = 0
        while True:
            finished = done.is_set()
            with db.transaction(write=False) as session:
                rows = session.exec(
                    select(ChangeRow.sequence).where(ChangeRow.sequence > last).order_by(ChangeRow.sequence)
                ).all()
            seen.extend(rows)
            last = rows[-1] if rows else last
            if finished:
                return

    reader = threading.Thread(target=read)
    reader.start()
    threads = [threading.Thread(target=write, args=(i,)) for i in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    done.set()
    reader.join()
    db.dispose()
    return seen


def test_a_polling_reader_sees_every_change_in_order_under_concurrent_writers(postgres_url: str) -> None:
    writers, per_writer = 12, 60
    seen = _provoke(postgres_url, writers, per_writer)
    assert seen == list(range(1, writers * per_writer + 1))

"""Publishing the golden copy of the national ledger (:mod:`common.golden` says what a copy holds).

:class:`GoldenCopies` builds a copy in a directory beside the node, streaming: one query over the
ledger's coded rows joined to their log entries, in log order, written as it is read; then the leaf
hashes of the log up to a checkpoint that holds every record; then the manifest, signed with the log's
key. A copy is built in a hidden directory and renamed into place when complete, so a reader never sees
half of one; ``LATEST`` names the newest, and the oldest beyond ``keep`` are removed.

The node builds one every day at ``golden.daily_at`` (China Standard Time; by the holder of the
``golden`` lease, whichever of its processes that is), and ``python -m national_node.golden`` builds
one on demand.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import hashlib
import io
import json
import logging
import shutil
import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO

from sqlmodel import col, select

from common.clock import CHINA, Clock, SystemClock
from common.db import Database
from common.golden import CSV_COLUMNS, DELTAS, CopyFile, Manifest, csv_row
from common.transparency.note import Signer, sign_note
from national_node.models import CheckpointRow, LedgerRow, LogEntryRow

__all__ = ["GoldenCopies", "main"]

logger = logging.getLogger(__name__)

#: The file naming the newest copy.
LATEST = "LATEST"
#: Rows fetched per round trip while streaming.
_BATCH = 2000


class GoldenCopies:
    """Builds and keeps the golden copies in ``directory``."""

    def __init__(
        self,
        db: Database,
        signer: Signer,
        directory: Path,
        *,
        clock: Clock | None = None,
        keep: int = 7,
        checkpoint_wait: float = 30.0,
    ) -> None:
        self.db, self.signer, self.directory = db, signer, directory
        self.clock = clock or SystemClock()
        self.keep, self.checkpoint_wait = keep, checkpoint_wait

    def latest(self) -> Path | None:
        try:
            name = (self.directory / LATEST).read_text().strip()
        except OSError:
            return None
        path = self.directory / name
        return path if name and path.is_dir() else None

    def build(self) -> Path:
        """Build a copy cut now; its directory."""
        cut = self.clock.now().astimezone(UTC).replace(microsecond=0)
        name = cut.strftime("%Y%m%dT%H%M%SZ")
        self.directory.mkdir(parents=True, exist_ok=True)
        work = self.directory / f".{name}.partial"
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir()
        started = time.monotonic()
        try:
            records, last_index = self._records(work, cut)
            size, root = self._checkpoint_after(last_index)
            self._leaves(work / "leaves.bin", size)
            files = [_described(work / n) for n in sorted(p.name for p in work.iterdir())]
            manifest = Manifest(cut=cut, tree_size=size, root=root, records=records, files=tuple(files))
            (work / "manifest.txt").write_text(sign_note(manifest.text(), [self.signer]), encoding="utf-8")
            final = self.directory / name
            shutil.rmtree(final, ignore_errors=True)
            work.rename(final)
        except BaseException:
            shutil.rmtree(work, ignore_errors=True)
            raise
        _write_atomically(self.directory / LATEST, name + "\n")
        self._prune()
        logger.info(
            "golden copy %s: %d records at checkpoint %d, built in %.1f s",
            name,
            records,
            size,
            time.monotonic() - started,
        )
        return final

    def _records(self, work: Path, cut: datetime) -> tuple[int, int]:
        """Write the records (JSON Lines, CSV, deltas); how many, and the largest log index."""
        bounds = {name: cut - window for name, window in DELTAS.items()}
        count, last = 0, -1
        with (
            _Gzip(work / "ledger.jsonl.gz") as jsonl,
            _Gzip(work / "ledger.csv.gz") as csv_file,
            _Deltas(work, bounds) as deltas,
        ):
            text = io.TextIOWrapper(csv_file, encoding="utf-8", newline="")
            writer = csv.writer(text, lineterminator="\n")
            writer.writerow(CSV_COLUMNS)
            statement = (
                select(LedgerRow.log_index, LogEntryRow.entry)
                .join(LogEntryRow, col(LogEntryRow.index) == col(LedgerRow.log_index))
                .where(col(LedgerRow.code).is_not(None))
                .order_by(col(LedgerRow.log_index))
                .execution_options(yield_per=_BATCH)
            )
            with self.db.transaction(write=False) as session:
                for index, entry in session.exec(statement):
                    assert index is not None
                    line = b'{"log_index":%d,"entry":%s}\n' % (index, entry)
                    jsonl.write(line)
                    parsed = json.loads(entry)
                    writer.writerow(csv_row(index, parsed))
                    deltas.write(_entry_time(parsed["time"]), line)
                    count, last = count + 1, index
            text.flush()
            text.detach()
        return count, last

    def _checkpoint_after(self, last_index: int) -> tuple[int, bytes]:
        """The newest checkpoint, once one holds entry ``last_index`` (they follow appends within
        seconds); RuntimeError if none does within ``checkpoint_wait``."""
        deadline = time.monotonic() + self.checkpoint_wait
        while True:
            with self.db.transaction(write=False) as session:
                newest = session.exec(
                    select(CheckpointRow).order_by(col(CheckpointRow.size).desc()).limit(1)
                ).first()
            if newest is not None and newest.size > last_index:
                return newest.size, newest.root
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"no checkpoint holds log entry {last_index} after {self.checkpoint_wait:.0f} s:"
                    " is the national node signing checkpoints?"
                )
            time.sleep(0.2)

    def _leaves(self, path: Path, size: int) -> None:
        statement = (
            select(LogEntryRow.hash)
            .where(col(LogEntryRow.index) < size)
            .order_by(col(LogEntryRow.index))
            .execution_options(yield_per=_BATCH * 5)
        )
        written = 0
        with path.open("wb") as handle, self.db.transaction(write=False) as session:
            for leaf in session.exec(statement):
                handle.write(leaf)
                written += 1
        if written != size:
            raise RuntimeError(f"the log holds {written} entries below its checkpoint's size {size}")

    def _prune(self) -> None:
        copies = sorted(p for p in self.directory.iterdir() if p.is_dir() and not p.name.startswith("."))
        for old in copies[: max(0, len(copies) - self.keep)]:
            shutil.rmtree(old, ignore_errors=True)

    # -- the daily duty -----------------------------------------------------------------------------

    def due(self, daily_at: tuple[int, int]) -> bool:
        """Whether today's copy (at ``daily_at``, China Standard Time) is due and not yet built."""
        now = self.clock.now().astimezone(CHINA)
        scheduled = now.replace(hour=daily_at[0], minute=daily_at[1], second=0, microsecond=0)
        if now < scheduled:
            scheduled -= timedelta(days=1)
        latest = self.latest()
        if latest is None:
            return True
        built = datetime.strptime(latest.name, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
        return built < scheduled


class DailyCopies:
    """A thread that builds the day's copy when it is due, while ``on_duty()`` says this process
    holds the ``golden`` lease."""

    def __init__(
        self,
        copies: GoldenCopies,
        daily_at: tuple[int, int],
        on_duty: Callable[[], bool] = lambda: True,
        interval: float = 30.0,
    ) -> None:
        self.copies, self.daily_at, self.on_duty, self.interval = copies, daily_at, on_duty, interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="golden-copy", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                if self.on_duty() and self.copies.due(self.daily_at):
                    self.copies.build()
            except Exception:
                logger.exception("the golden copy failed; it is tried again at the next look")


class _Gzip:
    """A gzip file written through a buffer (mtime 0: the same records give the same bytes)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __enter__(self) -> gzip.GzipFile:
        self._raw: IO[bytes] = self.path.open("wb")
        self._gzip = gzip.GzipFile(filename="", mode="wb", fileobj=self._raw, compresslevel=6, mtime=0)
        return self._gzip

    def __exit__(self, *exc: object) -> None:
        self._gzip.close()
        self._raw.close()


class _Deltas:
    """The delta files: each takes the records whose entry is no older than its bound."""

    def __init__(self, work: Path, bounds: dict[str, datetime]) -> None:
        self.work, self.bounds = work, bounds

    def __enter__(self) -> _Deltas:
        self._files = {name: _Gzip(self.work / f"{name}.jsonl.gz") for name in self.bounds}
        self._open = {name: f.__enter__() for name, f in self._files.items()}
        return self

    def write(self, at: datetime, line: bytes) -> None:
        for name, bound in self.bounds.items():
            if at >= bound:
                self._open[name].write(line)

    def __exit__(self, *exc: object) -> None:
        for f in self._files.values():
            f.__exit__(*exc)


def _entry_time(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


def _described(path: Path) -> CopyFile:
    sha = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            sha.update(chunk)
    return CopyFile(path.name, path.stat().st_size, sha.hexdigest())


def _write_atomically(path: Path, text: str) -> None:
    partial = path.with_name(f".{path.name}.partial")
    partial.write_text(text)
    partial.replace(path)


def main(argv: list[str] | None = None) -> None:
    """``python -m national_node.golden [--config deploy/national.toml]``: build a golden copy now, with
    the node's settings."""
    from national_node.settings import NationalSettings  # the node's settings, as it reads them

    parser = argparse.ArgumentParser(prog="python -m national_node.golden", description=main.__doc__)
    parser.add_argument(
        "--config", type=Path, help="the node's TOML settings (REGISTRY_* variables override it)"
    )
    options = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    settings = NationalSettings.load(options.config)
    if settings.transparency.log_key_file is None:
        raise SystemExit(
            "transparency.log_key_file is not set: the copy's manifest is signed with the log's key"
        )
    signer = Signer.from_key(settings.transparency.log_key_file.read_text().strip())
    db = Database(settings.database_url)
    try:
        built = GoldenCopies(db, signer, settings.golden.directory, keep=settings.golden.keep).build()
    finally:
        db.dispose()
    sys.stdout.write(f"{built}\n")


if __name__ == "__main__":
    main()

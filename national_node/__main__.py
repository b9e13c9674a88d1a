"""``python -m national_node [--config deploy/national.toml]``: serve the national node.

With one worker (SQLite, or ``workers = 1``) this process is the node. With more, it is their
supervisor (:mod:`national_node.workers`) and each worker runs ``python -m national_node --worker``.
"""

from __future__ import annotations

import sys

from common.process import Process, run_process
from national_node.settings import NationalSettings


def _build(settings: NationalSettings) -> Process:
    count = settings.worker_count()
    if count == 1:
        from national_node.server import create_server

        return create_server(settings)
    from national_node.workers import WorkerPool

    return WorkerPool(settings, count)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args == ["--worker"]:
        from national_node.workers import run_worker

        return run_worker()
    return run_process(
        "national_node",
        "The national registration node: coding authority, node directory, national ledger.",
        lambda path: NationalSettings.load(path),
        _build,
        args,
    )


if __name__ == "__main__":
    sys.exit(main())

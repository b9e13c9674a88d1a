"""``python -m national_node [--config deploy/national.toml]``: serve the national node."""

from __future__ import annotations

import sys

from common.process import run_process
from national_node.server import create_server
from national_node.settings import NationalSettings


def main(argv: list[str] | None = None) -> int:
    return run_process(
        "national_node",
        "The national registration node: coding authority, node directory, national ledger.",
        lambda path: NationalSettings.load(path),
        create_server,
        argv,
    )


if __name__ == "__main__":
    sys.exit(main())

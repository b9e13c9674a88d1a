"""``python -m provincial_node --config deploy/provincial-320000.toml``: serve a provincial node."""

from __future__ import annotations

import sys

from common.process import run_process
from provincial_node.server import create_server
from provincial_node.settings import ProvincialSettings


def main(argv: list[str] | None = None) -> int:
    return run_process(
        "provincial_node",
        "A provincial registration node.",
        lambda path: ProvincialSettings.load(path),
        create_server,
        argv,
    )


if __name__ == "__main__":
    sys.exit(main())

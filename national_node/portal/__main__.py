"""``python -m national_node.portal [--config deploy/national.toml]``: serve the public portal."""

from __future__ import annotations

import sys

from common.process import run_process
from national_node.portal.server import PortalProcess
from national_node.settings import NationalSettings


def main(argv: list[str] | None = None) -> int:
    return run_process(
        "national_node.portal",
        "The public portal: search, registrations, announcements and objections, result checks.",
        lambda path: NationalSettings.load(path),
        PortalProcess,
        argv,
    )


if __name__ == "__main__":
    sys.exit(main())

"""The ``registryctl`` console script: the operators' command line (see :mod:`common.registryctl`)."""

from __future__ import annotations

import typer

from common.registryctl import (  # noqa: F401  (they register the commands)
    code_commands,
    correction_commands,
    demand_commands,
    disclosure_commands,
    golden_commands,
    log_commands,
    procedure_commands,
    share_commands,
    sync_commands,
    trust_commands,
)
from common.registryctl.cli import app

__all__ = ["main"]


def main() -> None:
    """The ``registryctl`` console script."""
    try:
        app(prog_name="registryctl")
    except Exception as error:  # a bug in registryctl itself: say so in one line, not a traceback
        typer.echo(f"error: registryctl failed unexpectedly: {type(error).__name__}: {error}", err=True)
        raise SystemExit(1) from None


if __name__ == "__main__":
    main()

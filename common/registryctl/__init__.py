"""``registryctl``: the operators' command line for the registry.

* :mod:`~common.registryctl.cli`: the typer application, its global options and shared helpers;
* :mod:`~common.registryctl.procedure_commands`, :mod:`~common.registryctl.sync_commands`,
  :mod:`~common.registryctl.code_commands`: the commands;
* :mod:`~common.registryctl.client`: the gRPC calls and how their failures read;
* :mod:`~common.registryctl.files`: application files (TOML) into registration content;
* :mod:`~common.registryctl.render`: what the commands print.
"""

from common.registryctl.cli import EXIT_DIFFERS, app
from common.registryctl.main import main

__all__ = ["EXIT_DIFFERS", "app", "main"]

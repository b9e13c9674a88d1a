"""``registryctl golden verify DIR``: check a golden copy of the national ledger offline
(:mod:`common.golden`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, DownloadColumn, Progress, TaskID, TextColumn, TimeRemainingColumn

from common.golden import verify_copy
from common.registryctl.cli import app, options_of, usage_error
from common.registryctl.log_commands import KeysOption
from common.security.local import read_key_lines

__all__ = ["golden_app"]

golden_app = typer.Typer(
    name="golden",
    help="The golden copy of the national ledger: verify one offline.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(golden_app, name="golden")


@golden_app.command("verify")
def verify(
    ctx: typer.Context,
    directory: Annotated[
        Path, typer.Argument(metavar="DIR", help="The copy: a directory holding manifest.txt and its files.")
    ],
    log_keys: KeysOption = Path("data/log/log.vkeys"),
) -> None:
    """Verify a golden copy offline: the manifest's signature by the log's key, every file's size and
    SHA-256, the leaves against the checkpoint's root, and every record against its log entry. Exit
    status 0 when all of it verifies; 1 with each problem (a record by its code) when not."""
    options = options_of(ctx)
    try:
        keys = read_key_lines(log_keys)
    except OSError as error:
        usage_error(str(error))
    if not directory.is_dir():
        usage_error(f"{directory} is not a directory")
    tasks: dict[str, TaskID] = {}
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TimeRemainingColumn(),
        console=options.console,
        transient=True,
        disable=options.json,
    ) as bar:

        def progress(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(stage, total=total)
            bar.update(tasks[stage], completed=done)

        result = verify_copy(directory, keys, progress=progress)
    if options.json:
        problems = [{"kind": p.kind, "code": p.code, "detail": p.detail} for p in result.problems]
        typer.echo(json.dumps({"verified": result.ok, "records": result.records, "problems": problems}))
    elif result.ok:
        options.console.print(
            f"verified: {result.records} records, each in the national log at the checkpoint"
        )
    else:
        for problem in result.problems:
            where = f" {problem.code}" if problem.code else ""
            options.console.print(f"{problem.kind}{where}: {problem.detail}", style="red", markup=False)
    if not result.ok:
        raise typer.Exit(1)

"""``registryctl confirmation ...`` and ``registryctl log ...``: the national log, from anyone's side.

``confirmation get`` saves a registration's confirmation file (a C2SP tlog-proof, asked of the node
that manages it); ``confirmation verify`` checks one **offline**, with nothing but the national log's
verifier keys (``data/log/log.vkeys`` in a local federation; a deployment publishes them). ``log
status`` shows the newest checkpoint and who cosigned it; ``log resolve`` closes a province's log
alarm after an investigation.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from common.gen.registry.v1 import log_service_pb2 as ls
from common.gen.registry.v1 import provincial_service_pb2 as ps
from common.gen.registry.v1 import registration_service_pb2 as rs
from common.registryctl.cli import app, options_of, session_for, to_json, usage_error
from common.security.local import read_key_lines
from common.transparency import Checkpoint, CosignaturesPending, VerificationError
from common.transparency.entry import verify_confirmation
from common.transparency.note import split_note

__all__ = ["confirmation_app", "log_app"]

confirmation_app = typer.Typer(
    name="confirmation",
    help="Confirmation files (登记结果确认单): fetch one, check one offline.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
log_app = typer.Typer(
    name="log",
    help="The national log: its newest checkpoint and witnesses (--national); a province's alarm (--node).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(confirmation_app, name="confirmation")
app.add_typer(log_app, name="log")

KeysOption = Annotated[
    Path,
    typer.Option(
        "--log-keys",
        metavar="FILE",
        help="The national log's verifier keys, one per line (every key it has used).",
    ),
]


@confirmation_app.command("get")
def confirmation_get(
    ctx: typer.Context,
    code: Annotated[str, typer.Argument(metavar="CODE", help="The unified registration code.")],
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", metavar="FILE", help="Write the file here (default: stdout)."),
    ] = None,
) -> None:
    """Fetch the confirmation file of a code from the node that manages it (--node)."""
    options = options_of(ctx)
    with session_for(options) as session:
        confirmation = session.call("GetConfirmation", rs.GetConfirmationRequest(code=code.strip()))
    if not confirmation.tlog_proof:
        typer.echo(f"error: no confirmation file yet: {confirmation.tlog_proof_status}", err=True)
        raise typer.Exit(1)
    if confirmation.witnesses_pending:
        typer.echo(
            f"note: cosigned by {', '.join(confirmation.cosigned_by) or 'no witness'}; cosignatures pending"
            f" from {', '.join(confirmation.witnesses_pending)}: fetch it again in a few seconds for a file"
            " they have cosigned too",
            err=True,
        )
    if out is None:
        sys.stdout.write(confirmation.tlog_proof)
        return
    out.write_text(confirmation.tlog_proof)
    typer.echo(f"wrote {out}: check it with registryctl confirmation verify {out}", err=True)


@confirmation_app.command("verify")
def confirmation_verify(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(metavar="FILE", help="A confirmation file (C2SP tlog-proof).")],
    log_keys: KeysOption = Path("data/log/log.vkeys"),
    witness_keys: Annotated[
        Path | None,
        typer.Option("--witness-keys", metavar="FILE", help="The witnesses' verifier keys, one per line."),
    ] = None,
    witnesses: Annotated[
        int, typer.Option("--witnesses", min=0, help="How many of those witnesses must have cosigned.")
    ] = 0,
    content: Annotated[
        Path | None,
        typer.Option(
            "--content",
            metavar="FILE",
            help="The registered content, canonical: it must hash to the confirmed content_sha256.",
        ),
    ] = None,
) -> None:
    """Check a confirmation file offline: the log's signature, the entry's inclusion, the witnesses,
    and what it confirms. Exit status 0 when it verifies, 1 (with the reason) when not, 3 when all of it
    verifies but fewer witnesses than --witnesses have cosigned yet (COSIGNATURES_PENDING: fetch it
    again in a few seconds)."""
    options = options_of(ctx)
    try:
        text = file.read_bytes()
        keys = read_key_lines(log_keys)
        cosigners = read_key_lines(witness_keys) if witness_keys is not None else []
        given = content.read_bytes() if content is not None else None
    except OSError as error:
        usage_error(str(error))
    try:
        verified = verify_confirmation(
            text, keys, witness_keys=cosigners, witnesses_needed=witnesses, content=given
        )
    except CosignaturesPending as pending:
        if options.json:
            report = {
                "verified": False,
                "reason": pending.reason,
                "message": pending.message,
                "cosigned_by": list(pending.cosigned),
                "pending": list(pending.missing),
            }
            typer.echo(json.dumps(report))
        else:
            typer.echo(f"NOT YET COSIGNED ({pending.reason}): {pending.message}", err=True)
        raise typer.Exit(3) from None
    except VerificationError as error:
        if options.json:
            typer.echo(json.dumps({"verified": False, "reason": error.reason, "message": error.message}))
        else:
            typer.echo(f"NOT VERIFIED ({error.reason}): {error.message}", err=True)
        raise typer.Exit(1) from None
    entry, proof = verified.entry, verified.proof
    if options.json:
        report = {
            "verified": True,
            "entry": entry,
            "index": proof.index,
            "tree_size": proof.checkpoint.size,
            "log_key": proof.log_key,
            "witnesses": [name for name, _ in proof.witnesses],
        }
        typer.echo(json.dumps(report, ensure_ascii=False, indent=2))
        return
    table = Table(title="verified: in the national log", title_justify="left", show_header=False)
    subject = entry.get("subject", {})
    for label, value in (
        ("code", entry.get("code", "(none)")),
        ("registration", entry["registration"]),
        ("state", entry["state"]),
        ("data name", entry.get("data_name", "")),
        ("subject", f"{subject.get('name', '')} ({subject.get('uscc', '')})"),
        ("valid", f"{entry.get('valid_from', '')} – {entry.get('valid_until', '')}"),
        ("content sha256", entry.get("content_sha256", "") + ("  (matches --content)" if given else "")),
        ("logged", f"entry {proof.index} of {proof.checkpoint.size}, {entry['time']}"),
        ("signed by", proof.log_key),
        ("cosigned by", ", ".join(name for name, _ in proof.witnesses) or "(no witness keys given)"),
    ):
        table.add_row(label, str(value))
    options.console.print(table)


@log_app.command("status")
def log_status(ctx: typer.Context) -> None:
    """The national log's newest checkpoint and its witnesses (--national)."""
    options = options_of(ctx)
    with session_for(options, national=True, service="log") as session:
        info = session.call("GetLogInfo", ls.GetLogInfoRequest())
        checkpoint = session.call("GetCheckpoint", ls.GetCheckpointRequest())
    if options.json:
        typer.echo(
            json.dumps({"info": json.loads(to_json(info)), "checkpoint": json.loads(to_json(checkpoint))})
        )
        return
    body, _ = split_note(checkpoint.note)
    parsed = Checkpoint.parse(body)
    table = Table(title=f"  {info.origin}", title_justify="left", show_header=False)
    table.add_row("entries", f"{info.size:,}")
    table.add_row(
        "newest checkpoint",
        f"{parsed.size:,} entries, issued {checkpoint.create_time.ToDatetime():%Y-%m-%d %H:%M:%S} UTC",
    )
    table.add_row("cosigned by", ", ".join(checkpoint.cosigned_by) or "(nobody yet)")
    table.add_row("log keys", "\n".join(info.verifier_keys))
    table.add_row("witnesses", "\n".join(w.node for w in info.witnesses) or "(none)")
    options.console.print(table)


@log_app.command("resolve")
def log_resolve(
    ctx: typer.Context,
    reason: Annotated[str, typer.Option("--reason", help="What the investigation found.")],
) -> None:
    """Close a province's log alarm (--node) after investigating it; the downward feed resumes."""
    options = options_of(ctx)
    with session_for(options, service="provincial") as session:
        status = session.call("ResolveLogAlarm", ps.ResolveLogAlarmRequest(reason=reason))
    typer.echo(to_json(status) if options.json else "resolved; the downward feed resumes")

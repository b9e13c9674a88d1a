"""The golden copy of the national ledger, for download (``/downloads``; :mod:`common.golden` says what a
copy holds and how to verify it).

The page lists the newest copy's files with their size and SHA-256, and how to verify them;
``/api/v1/downloads`` says the same as JSON. Each file is served with its SHA-256 as a strong ``ETag``,
and with ``Range`` (a download that broke off resumes where it stopped) and ``If-Range``. Only the
files a copy's manifest names are served, under names the node gave them.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter
from fastapi import Path as PathParam
from fastapi.responses import FileResponse, Response
from pydantic import BaseModel, Field

from common.golden import Manifest
from common.transparency.note import NoteError, split_note
from national_node.portal.deps import PortalDep
from national_node.portal.errors import PortalError
from national_node.portal.pages import PagesDep

__all__ = ["router"]

router = APIRouter()

_COPY = r"^[0-9]{8}T[0-9]{6}Z$"
_FILE = r"^[a-z0-9-]+(\.[a-z0-9]+){1,2}$"


class DownloadFile(BaseModel):
    name: str = Field(description="The file's name in the copy.")
    url: str = Field(description="Where to download it (Range requests are served).")
    size: int = Field(description="Its size in bytes.")
    sha256: str = Field(description="Its SHA-256 (hex), as the signed manifest states it.")


class GoldenCopy(BaseModel):
    copy_id: str = Field(alias="copy", description="The copy: its cut, as yyyymmddThhmmssZ (UTC).")
    cut: str = Field(description="When it was cut (RFC 3339, UTC).")
    records: int = Field(description="How many registrations it holds.")
    tree_size: int = Field(description="The national log's checkpoint it is proved at: its size.")
    manifest_url: str = Field(description="The manifest, a C2SP signed note by the log's key.")
    files: list[DownloadFile]

    model_config = {"populate_by_name": True}


def _latest(portal: PortalDep) -> tuple[Path, Manifest] | None:
    root = portal.downloads
    if root is None:
        return None
    try:
        name = (root / "LATEST").read_text().strip()
        if not re.fullmatch(_COPY, name):
            return None
        text, _ = split_note((root / name / "manifest.txt").read_text(encoding="utf-8"))
        return root / name, Manifest.parse(text)
    except (OSError, NoteError, ValueError):
        return None


def _described(directory: Path, manifest: Manifest) -> GoldenCopy:
    base = f"/downloads/{directory.name}"
    return GoldenCopy(
        copy=directory.name,
        cut=manifest.cut.strftime("%Y-%m-%dT%H:%M:%SZ"),
        records=manifest.records,
        tree_size=manifest.tree_size,
        manifest_url=f"{base}/manifest.txt",
        files=[
            DownloadFile(name=f.name, url=f"{base}/{f.name}", size=f.size, sha256=f.sha256)
            for f in manifest.files
        ],
    )


@router.get("/downloads", include_in_schema=False)
def downloads_page(page: PagesDep, portal: PortalDep) -> Response:
    """全量下载: the newest golden copy of the national ledger, and how to verify it."""
    latest = _latest(portal)
    return page("downloads.html", copy=_described(*latest) if latest else None)


@router.get(
    "/api/v1/downloads",
    response_model=GoldenCopy,
    responses={404: {"description": "No copy has been published yet."}},
    summary="The newest golden copy of the national ledger",
    tags=["downloads"],
)
def downloads_api(portal: PortalDep) -> GoldenCopy:
    latest = _latest(portal)
    if latest is None:
        raise PortalError(404, "NOT_FOUND", "no golden copy has been published yet")
    return _described(*latest)


@router.get("/downloads/{copy}/{file}", include_in_schema=False)
def download(
    portal: PortalDep,
    copy: Annotated[str, PathParam(pattern=_COPY)],
    file: Annotated[str, PathParam(pattern=_FILE, max_length=40)],
) -> Response:
    root = portal.downloads
    directory = root / copy if root is not None else None
    if directory is None or not (directory / "manifest.txt").is_file():
        raise PortalError(404, "NOT_FOUND", f"no golden copy {copy}")
    if file == "manifest.txt":
        return FileResponse(directory / file, media_type="text/plain; charset=utf-8")
    try:
        text, _ = split_note((directory / "manifest.txt").read_text(encoding="utf-8"))
        listed = {f.name: f for f in Manifest.parse(text).files}
    except (OSError, NoteError, ValueError):
        raise PortalError(404, "NOT_FOUND", f"no golden copy {copy}") from None
    if file not in listed:
        raise PortalError(404, "NOT_FOUND", f"the copy {copy} has no file {file}")
    media = "application/octet-stream" if file.endswith(".bin") else "application/gzip"
    return FileResponse(
        directory / file,
        media_type=media,
        filename=f"national-ledger-{copy}-{file}",
        headers={"ETag": f'"{listed[file].sha256}"', "Cache-Control": "public, max-age=86400, immutable"},
    )

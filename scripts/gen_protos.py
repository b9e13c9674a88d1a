#!/usr/bin/env python3
"""Generate the Python stubs of proto/registry/v1 into common/gen/registry/v1.

    python scripts/gen_protos.py          # regenerate in place
    python scripts/gen_protos.py --check  # exit 1 if the committed stubs are stale

Generated: the messages (``*_pb2.py``), their type stubs (``*_pb2.pyi``), the service stubs
(``*_pb2_grpc.py``) and their type stubs (``*_pb2_grpc.pyi``, by mypy-protobuf), and
``common/gen/registry_v1.binpb``, a FileDescriptorSet with the .proto files' comments (source info)
that the nodes' reflection service serves, so that ``grpcurl describe`` shows the documentation.

The generated modules import each other as ``registry.v1.x_pb2``; that is rewritten to
``common.gen.registry.v1.x_pb2`` so the stubs live inside the ``common`` package. grpcio-tools and
mypy-protobuf are pinned in pyproject.toml, and the google/api and google/type files are the copies in
``proto/third_party/googleapis`` (which buf reads too), so that regeneration is byte-for-byte
reproducible.
"""

from __future__ import annotations

import argparse
import filecmp
import re
import shutil
import sys
import tempfile
from pathlib import Path

import grpc_tools
from grpc_tools import protoc

ROOT = Path(__file__).resolve().parent.parent
PROTO_ROOT = ROOT / "proto"
GOOGLEAPIS = PROTO_ROOT / "third_party" / "googleapis"
PACKAGE_DIR = Path("registry") / "v1"
OUT_ROOT = ROOT / "common" / "gen"
IMPORT_RE = re.compile(r"^(from|import) registry\.v1(\.| import)", re.MULTILINE)
DESCRIPTORS = "registry_v1.binpb"


def _include_dirs() -> list[Path]:
    # The google/api and google/type files are the copies beside the contract, which buf reads too:
    # the descriptors do not depend on the installed googleapis-common-protos.
    well_known = Path(grpc_tools.__file__).resolve().parent / "_proto"
    return [PROTO_ROOT, GOOGLEAPIS, well_known]


def generate(out_root: Path) -> None:
    out = out_root / PACKAGE_DIR
    out.mkdir(parents=True, exist_ok=True)
    sources = sorted(str(p.relative_to(PROTO_ROOT)) for p in (PROTO_ROOT / PACKAGE_DIR).glob("*.proto"))
    args = ["grpc_tools.protoc", *(f"-I{d}" for d in _include_dirs())]
    args += [f"--python_out={out_root}", f"--pyi_out={out_root}", f"--grpc_python_out={out_root}"]
    plugin = Path(sys.executable).parent / "protoc-gen-mypy_grpc"
    args += [f"--plugin=protoc-gen-mypy_grpc={plugin}", f"--mypy_grpc_out=quiet:{out_root}"]
    args += ["--include_imports", "--include_source_info", f"--descriptor_set_out={out_root / DESCRIPTORS}"]
    if protoc.main([*args, *sources]) != 0:
        raise SystemExit("protoc failed")
    for path in out.glob("*.py*"):
        text = path.read_text()
        path.write_text(IMPORT_RE.sub(lambda m: f"{m.group(1)} common.gen.registry.v1{m.group(2)}", text))
    for package in (out_root, out_root / "registry", out):
        (package / "__init__.py").touch()


def _stale(expected: Path, actual: Path) -> list[str]:
    files = {p.relative_to(expected) for p in expected.rglob("*") if p.is_file()}
    files |= {
        p.relative_to(actual) for p in actual.rglob("*") if p.is_file() and "__pycache__" not in p.parts
    }
    return sorted(
        str(f)
        for f in files
        if not (expected / f).exists()
        or not (actual / f).exists()
        or not filecmp.cmp(expected / f, actual / f, shallow=False)
    )


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--check", action="store_true", help="fail if the committed stubs are stale")
    options = parser.parse_args()
    if options.check:
        with tempfile.TemporaryDirectory() as tmp:
            fresh = Path(tmp) / "gen"
            generate(fresh)
            stale = _stale(fresh, OUT_ROOT)
        if stale:
            sys.stderr.write("generated stubs are stale; run python scripts/gen_protos.py:\n")
            sys.stderr.writelines(f"  common/gen/{f}\n" for f in stale)
            return 1
        sys.stdout.write("generated stubs are up to date\n")
        return 0
    shutil.rmtree(OUT_ROOT, ignore_errors=True)
    generate(OUT_ROOT)
    return 0


if __name__ == "__main__":
    sys.exit(main())

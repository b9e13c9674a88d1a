"""The README's walkthrough, run as an operator would: the registryctl command against real nodes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.integration.test_registration_e2e import Federation, federation  # noqa: F401 (fixture)
from tests.nodes import ROOT, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def _ctl(fed: Federation, *args: str, json_output: bool = True) -> subprocess.CompletedProcess[str]:
    # The console script the README uses, installed beside this interpreter by `pip install -e .`.
    registryctl = str(Path(sys.executable).parent / "registryctl")
    command = [
        registryctl,
        "--node",
        fed.province.address,
        "--national",
        fed.national.address,
        "--actor",
        "张三",
    ]
    if json_output:
        command.append("--json")
    return subprocess.run([*command, *args], capture_output=True, text=True, timeout=60, cwd=ROOT)


def _ok(fed: Federation, *args: str) -> dict:
    result = _ctl(fed, *args)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_one_registration_through_every_step_with_the_cli(federation: Federation, tmp_path: Path) -> None:  # noqa: F811
    fed = federation
    created = _ok(fed, "apply", "deploy/examples/application.toml", "--region", "320000")
    name = created["name"]
    assert created["current_application"]["state"] == "SUBMITTED"
    returned = _ok(
        fed,
        "return",
        name,
        "--defect",
        "storage.location=请写明具体机房",
        "--defect",
        "commitment=承诺书未盖章",
    )
    assert len(returned["current_application"]["defects"]) == 2
    _ok(fed, "resubmit", name, "deploy/examples/application.toml")
    _ok(fed, "accept", name)
    _ok(fed, "approve", name)
    _ok(fed, "announce", name)
    objection = _ok(fed, "object", name, "--objector", "李四 lisi@example.cn", "--reason", "数据来源存疑")
    _ok(fed, "resolve", objection["name"], "--dismiss", "--resolution", "来源合法，驳回异议")
    active = wait_until(
        lambda: (
            (reg := _ok(fed, "show", name, "--no-history")["registration"]).get("state") == "ACTIVE" and reg
        ),
        timeout=60,
        message="the registration to be coded",
    )
    code = active["code"]
    shown = _ok(fed, "show", code)
    assert shown["confirmation"]["code"] == code
    assert {e["actor"] for e in shown["history"] if e["action"] == "accept"} == {"张三"}
    verified = _ok(fed, "verify", code)
    assert verified["assigned"] and verified["assignment"]["registration"] == name
    # The readable forms work too, and a wrong step is explained, not a traceback.
    table = _ctl(fed, "show", code, json_output=False)
    assert table.returncode == 0 and code in table.stdout
    wrong = _ctl(fed, "announce", name, json_output=False)
    assert wrong.returncode == 1 and "FAILED_PRECONDITION" in wrong.stderr and "Traceback" not in wrong.stderr
    listed = _ok(fed, "list", "--region", "320000", "--state", "active")
    assert [r["code"] for r in listed["registrations"]] == [code]

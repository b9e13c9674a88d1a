"""The README's walkthrough, run as operators would: the registryctl command against real nodes, each
step by a person in the role it needs (tokens of the tests' issuer), with the built-in policy and
separation of duties on, as deployed."""

from __future__ import annotations

import base64
import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.test_registration_e2e import Federation, start_federation
from tests.nodes import registryctl, wait_until
from tests.trust import token, trust

pytestmark = [pytest.mark.integration, pytest.mark.slow]

#: The subject of deploy/examples/application.toml.
SUBJECT = "12320106MB1C584759"
APPLICANT = token("wang.wu", ("applicant",), (SUBJECT,))
CLERK = token("张三", ("clerk",))
REVIEWER = token("李四", ("reviewer",))
REGISTRAR = token("zhao.liu", ("registrar",))


@pytest.fixture
def federation(tmp_path: Path) -> Iterator[Federation]:
    started = start_federation(tmp_path, strict=True)
    yield started
    started.province.kill()
    started.national.kill()


def _ctl(
    fed: Federation, bearer: str | None, *args: str, json_output: bool = True
) -> subprocess.CompletedProcess[str]:
    return registryctl(
        fed.province.address, *args, bearer=bearer, national=fed.national.address, json_output=json_output
    )


def _ok(fed: Federation, bearer: str | None, *args: str) -> dict:
    result = _ctl(fed, bearer, *args)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_one_registration_through_every_step_with_the_cli(federation: Federation) -> None:
    fed = federation
    created = _ok(fed, APPLICANT, "apply", "deploy/examples/application.toml", "--region", "320000")
    name = created["name"]
    assert created["current_application"]["state"] == "SUBMITTED"
    returned = _ok(
        fed,
        CLERK,
        "return",
        name,
        "--defect",
        "storage.location=请写明具体机房",
        "--defect",
        "commitment=承诺书未盖章",
    )
    assert len(returned["current_application"]["defects"]) == 2
    _ok(fed, APPLICANT, "resubmit", name, "deploy/examples/application.toml")
    _ok(fed, CLERK, "accept", name)
    # The clerk who accepted may not approve as well (separation of duties); the reviewer does.
    same = _ctl(fed, token("张三", ("clerk", "reviewer")), "approve", name, json_output=False)
    assert same.returncode == 1 and "SEPARATION_OF_DUTIES" in same.stderr
    _ok(fed, REVIEWER, "approve", name)
    _ok(fed, REGISTRAR, "announce", name)
    objection = _ok(
        fed, None, "object", name, "--objector", "李四 lisi@example.cn", "--reason", "数据来源存疑"
    )
    _ok(fed, REGISTRAR, "resolve", objection["name"], "--dismiss", "--resolution", "来源合法，驳回异议")
    active = wait_until(
        lambda: (
            (reg := _ok(fed, CLERK, "show", name, "--no-history")["registration"]).get("state") == "ACTIVE"
            and reg
        ),
        timeout=60,
        message="the registration to be coded",
    )
    code = active["code"]
    shown = _ok(fed, CLERK, "show", code)
    assert shown["confirmation"]["code"] == code
    actors = {e["action"]: e["actor"] for e in shown["history"]}
    assert (actors["submit"], actors["accept"], actors["approve"]) == ("wang.wu", "张三", "李四")
    assert actors["object"] == "anonymous" and actors["assign_code"] == "system"
    verified = _ok(fed, None, "verify", code)
    assert verified["assigned"] and verified["assignment"]["registration"] == name
    # The confirmation file, fetched by anyone and checked offline with the log's public key alone;
    # wait for the checkpoint that covers the code (the file needs its inclusion proof).
    confirmation = fed.national.cwd / "confirmation.tlog"
    wait_until(
        lambda: _ctl(fed, None, "confirmation", "get", code, "-o", str(confirmation)).returncode == 0,
        timeout=30,
        message="the confirmation file",
    )
    log_keys = str(trust().log_verifier_keys_file)
    checked = _ok(fed, None, "confirmation", "verify", str(confirmation), "--log-keys", log_keys)
    assert checked["verified"] and checked["entry"]["code"] == code
    assert checked["entry"]["registration"] == name and checked["entry"]["state"] == "ACTIVE"
    # Someone edits the confirmed entry (another registration under this code): the file no longer
    # verifies, for its inclusion proof is of the original entry.
    lines = confirmation.read_text().split("\n")
    at = next(i for i, line in enumerate(lines) if line.startswith("extra "))
    entry = base64.b64decode(lines[at].removeprefix("extra "))
    other = name[:-1] + ("1" if name.endswith("0") else "0")
    forged = entry.replace(name.encode(), other.encode())
    assert forged != entry
    lines[at] = "extra " + base64.b64encode(forged).decode()
    confirmation.write_text("\n".join(lines))
    refused_file = _ctl(fed, None, "confirmation", "verify", str(confirmation), "--log-keys", log_keys)
    assert refused_file.returncode == 1 and '"verified": false' in refused_file.stdout
    # The readable forms work too, and a wrong step is explained, not a traceback.
    table = _ctl(fed, CLERK, "show", code, json_output=False)
    assert table.returncode == 0 and code in table.stdout
    wrong = _ctl(fed, REGISTRAR, "announce", name, json_output=False)
    assert wrong.returncode == 1 and "FAILED_PRECONDITION" in wrong.stderr and "Traceback" not in wrong.stderr
    refused = _ctl(fed, APPLICANT, "accept", name, json_output=False)
    assert refused.returncode == 1 and "PERMISSION_DENIED" in refused.stderr
    listed = _ok(fed, CLERK, "list", "--region", "320000", "--state", "active")
    assert [r["code"] for r in listed["registrations"]] == [code]

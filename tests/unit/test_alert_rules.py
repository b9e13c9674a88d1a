"""deploy/prometheus/: the alert rules are valid and their unit tests pass (each rule fires on its
fault and stays quiet beside a healthy node), and the example configuration is valid; with Debian's
promtool (``apt-get install prometheus``, which .ci/run does), or a skip that says so."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

PROMTOOL = shutil.which("promtool")
DEPLOY = Path(__file__).resolve().parents[2] / "deploy" / "prometheus"

pytestmark = pytest.mark.skipif(
    PROMTOOL is None, reason="no promtool: apt-get install prometheus (.ci/run installs it)"
)


def _promtool(*args: str) -> str:
    assert PROMTOOL is not None
    done = subprocess.run([PROMTOOL, *args], cwd=DEPLOY, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout + done.stderr


def test_the_rules_are_valid() -> None:
    assert "SUCCESS" in _promtool("check", "rules", "alerts.yml")


def test_every_rule_fires_on_its_fault_and_not_when_healthy() -> None:
    rules = set(re.findall(r"^\s+- alert: (\w+)$", (DEPLOY / "alerts.yml").read_text(), re.MULTILINE))
    tests = (DEPLOY / "alerts_test.yml").read_text()
    # Every rule is tested firing (an expected alert) and quiet (no alert expected).
    firing = set(re.findall(r"alertname: (\w+)\n\s+exp_alerts:\n\s+- exp_labels", tests))
    quiet = set(re.findall(r"alertname: (\w+), exp_alerts: \[\]", tests))
    assert rules and firing == rules and quiet == rules, (rules - firing, rules - quiet)
    assert "SUCCESS" in _promtool("test", "rules", "alerts_test.yml")


def test_the_example_configuration_is_valid() -> None:
    assert "is valid prometheus config file syntax" in _promtool("check", "config", "prometheus.yml")

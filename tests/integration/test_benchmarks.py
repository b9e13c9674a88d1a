"""The benchmarks keep running: each at its ``--smoke`` size, as a real process, as a person would run it.

``python -m benchmarks.<name> --smoke --json`` from the project folder; the test checks the exit status
and that the JSON holds the figures the benchmark promises (non-zero rates, every part present), not
how fast anything is. The PostgreSQL parts run when ``TEST_DATABASE_URL`` is set, else
``--skip-postgres``. Each run gets a time limit; past it the benchmark is stopped as Ctrl-C would
(it stops its servers and drops its databases), then killed with everything it started.
"""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT = 120.0
POSTGRES = bool(os.environ.get("TEST_DATABASE_URL"))


def _run(module: str) -> dict[str, Any]:
    """``python -m benchmarks.<module> --smoke --json``: its JSON report, once it exited with 0."""
    argv = [sys.executable, "-m", f"benchmarks.{module}", "--smoke", "--json"]
    if not POSTGRES:
        argv.append("--skip-postgres")
    # A session of its own: on a timeout, its servers and load generators go with it.
    process = subprocess.Popen(
        argv, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
    )
    try:
        out, err = process.communicate(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGTERM)  # the benchmark cleans up, as on Ctrl-C
        try:
            out, err = process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            out, err = "", ""
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        process.communicate()
        pytest.fail(f"{' '.join(argv[1:])} took more than {TIMEOUT:.0f} s; its output:\n{err[-4000:]}")
    assert process.returncode == 0, f"exit status {process.returncode}; its output:\n{err[-4000:]}"
    report: dict[str, Any] = json.loads(out)
    return report


def _positive(value: object) -> bool:
    return isinstance(value, int | float) and not math.isnan(value) and value > 0


def test_assign_codes_runs_at_smoke_size() -> None:
    report = _run("assign_codes")

    assert report["config"]["smoke"] is True
    runs, ratios = report["runs"], report["ratios"]
    for key in ("empty", "sqlite", *(("postgresql",) if POSTGRES else ())):
        run = runs[key]
        assert run is not None, f"{key} did not run: {report['skipped']}"
        assert run["calls"] > 0 and _positive(run["calls_per_second"]), key
        assert run["errors"] == 0, run["error_samples"]
        assert _positive(run["p50_ms"]) and run["p50_ms"] <= run["p99_ms"] <= run["max_ms"], key
        assert _positive(run["server_cpu_ms_per_call"]), key
        if key != "empty":
            assert _positive(ratios[key]), key
    if POSTGRES:
        assert "postgresql" not in report["skipped"]
        assert runs["postgresql"]["postgres_cpu_percent"] is not None
        assert report["machine"]["postgresql"]["server_version"]
    else:
        assert runs["postgresql"] is None and report["skipped"]["postgresql"] == "--skip-postgres"
    assert report["machine"]["nproc"] >= 1 and report["machine"]["git_commit"]


def test_sync_throughput_runs_at_smoke_size() -> None:
    report = _run("sync_throughput")

    config, runs, ratios = report["config"], report["runs"], report["ratios"]
    assert config["smoke"] is True
    backlog = config["backlog"]
    assert report["backlog"]["record_bytes_avg"] > 1000  # the seeded procedure's real records

    assert runs["stream"]["changes"] == backlog and _positive(runs["stream"]["changes_per_second"])
    databases = ("sqlite", "postgresql") if POSTGRES else ("sqlite",)
    for key in databases:
        insert, catch_up, sustained = runs[f"insert_{key}"], runs[f"catch_up_{key}"], runs[f"sustained_{key}"]
        assert insert["rows"] == backlog and _positive(insert["rows_per_second"]), key
        assert catch_up["changes"] == backlog and _positive(catch_up["changes_per_second"]), key
        assert _positive(catch_up["server_cpu_ms_per_change"]), key
        assert catch_up["log_problems"] == 0, key
        assert _positive(sustained["written_per_second"]) and _positive(sustained["changes_per_second"]), key
        assert _positive(ratios[f"{key}_vs_stream"]) and _positive(ratios[f"{key}_vs_insert"]), key
    if POSTGRES:
        assert runs["catch_up_postgresql"]["cpu_percent"]["processes"]["postgres"] >= 0
    else:
        assert "catch_up_postgresql" not in runs and report["skipped"]["postgresql"] == "--skip-postgres"

    e2e = runs["e2e"]
    assert e2e["errors"] == []
    assert e2e["measured"] == e2e["registrations"] == config["e2e_registrations"] > 0
    assert _positive(e2e["p50_ms"]) and e2e["p50_ms"] <= e2e["max_ms"]


def test_national_log_runs_at_smoke_size() -> None:
    report = _run("national_log")

    databases = ("sqlite", "postgresql") if POSTGRES else ("sqlite",)
    for key in databases:
        append, proofs = report["append"][key], report["proofs"][key]
        assert _positive(append["entries_per_second_1"]) and _positive(append["entries_per_second_500"]), key
        inclusion, consistency = proofs["inclusion"], proofs["consistency"]
        # A tree of 20,000 entries: every inclusion proof has at most ceil(log2(20000)) = 15 hashes.
        assert 0 < inclusion["hashes_max"] <= 15 and consistency["hashes_max"] <= 2 * 15, key
        assert _positive(inclusion["verify_us_p50"]) and _positive(inclusion["file_bytes_mean"]), key
    latency = report["checkpoint_latency"]
    assert latency["appends"] > 0 and 0 < latency["p50_ms"] <= latency["p99_ms"] <= latency["max_ms"]


def test_golden_copy_runs_at_smoke_size() -> None:
    run = _run("golden_copy")["runs"]["sqlite"]
    assert run["size"] == 20_000 and run["verify"] == {**run["verify"], "ok": True, "records": 20_000}
    assert _positive(run["build"]["seconds"]) and _positive(run["build"]["bytes"])
    assert _positive(run["stream_floor"]["seconds"]) and _positive(run["read_floor"]["seconds"])


@pytest.mark.skipif(not POSTGRES, reason="the portal benchmark runs on PostgreSQL (TEST_DATABASE_URL)")
def test_portal_search_runs_at_smoke_size() -> None:
    report = _run("portal_search")
    indexed = report["size"] + report["ledger"]["labelled"]
    assert report["index"]["rows"] == indexed and _positive(report["index"]["rows_per_second"])
    for label in ("queries", "queries_uncounted_cache_off", "one_client_cache_off"):
        for kind in ("one_word", "two_words", "filtered", "registration", "page"):
            run = report[label][kind]
            assert run["requests"] > 0 and run["failures"] == 0, (label, kind, run)
            assert _positive(run["p95_ms"])
    labelled = report["labelled"]
    assert labelled["failures"] == 0 and labelled["latency"]["all"]["requests"] == labelled["queries"]
    assert _positive(labelled["latency"]["all"]["p99_ms"])
    assert set(labelled["recall"]) == {"tuning", "held_out"}


def test_country_runs_at_smoke_size() -> None:
    report = _run("country")

    assert report["config"]["smoke"] is True
    changes, provinces = report["config"]["changes"], report["config"]["provinces"]
    assert provinces == len(report["provinces"]) == 31 and "100000" not in report["provinces"]
    raw = report["raw_stream"]
    assert raw["complete"] and raw["changes"] == changes * provinces and raw["errors"] == {}
    assert _positive(raw["changes_per_second"])

    keys = [f"postgresql-{n}" for n in report["config"]["workers"]] if POSTGRES else []
    for key in (*keys, "sqlite-1"):
        run = report["runs"][key]
        assert run is not None, f"{key} did not run: {report['skipped']}"
        # What the node was asked for and what it runs are both reported (the count of processes
        # listening on its port, at least the one it was started as).
        assert run["workers_asked"] >= 1 and run["processes_at_start"]["serving"] >= 1, key
        empty, assign, ingest = run["empty"], run["assign"], run["ingest"]
        for phase in (empty, assign):
            assert phase["errors"] == {}, (key, phase["error_samples"])
            assert phase["calls"] > 0 and _positive(phase["calls_per_second"]), key
            assert _positive(phase["p50_ms"]) and phase["p50_ms"] <= phase["p99_ms"] <= phase["max_ms"], key
            assert _positive(phase["national_cpu_ms_per_call"]), key
            assert sorted(phase["per_province"]) == sorted(report["provinces"]), key
            assert 0 <= phase["fairness"] <= 1, key
        assert sum(assign["per_province"].values()) == assign["calls"] and assign["exhausted"] == [], key
        # Every province's every change acknowledged, without an error.
        assert ingest["complete"] and ingest["errors"] == {}, (key, ingest["error_samples"])
        assert all(p["changes"] == changes for p in ingest["per_province"].values()), key
        assert ingest["changes"] == changes * provinces and _positive(ingest["changes_per_second"]), key
        assert _positive(ingest["national_cpu_ms_per_change"]), key
        assert _positive(run["ratios"]["codes_vs_empty"]) and _positive(run["ratios"]["ingest_vs_raw_stream"])
        assert run["log_problems"] == 0, key
    if POSTGRES:
        assert report["runs"]["postgresql-2"]["assign"]["cpu_percent"]["processes"]["postgres"] >= 0
    else:
        assert report["runs"]["postgresql-2"] is None and report["skipped"]["postgresql"] == "--skip-postgres"

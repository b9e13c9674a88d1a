"""Settings of the national node."""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path
from typing import Self

from pydantic import BaseModel, Field, field_validator, model_validator

from common import regions
from common.settings import MetricsSettings, NodeSettings

__all__ = [
    "CodeLeaseSettings",
    "IndexerSettings",
    "NationalSettings",
    "PortalSettings",
    "ProvincialNodeEntry",
]


class ProvincialNodeEntry(BaseModel):
    """A province-level region that runs its own node, and where that node serves."""

    region: str
    address: str = ""

    @field_validator("region")
    @classmethod
    def _known_province(cls, value: str) -> str:
        region = regions.get(value)
        if region.code == regions.NATIONAL:
            raise ValueError("the national node is not a provincial node")
        return region.code


class PortalSettings(BaseModel):
    """The public portal (``python -m national_node.portal``): the national node's public window.

    It reads the national ledger's database (in production a read replica of it: the portal only
    reads, apart from its page-token key) and acts through the national node's gRPC API: objections
    go to NationalService.FileObjection, confirmations come from LogService.GetInclusionProof and are
    verified here against the log's public keys before the page says "verified".
    """

    #: host:port of the web server.
    listen: str = "127.0.0.1:8000"
    #: The ledger's database; empty: the national node's ``database_url``.
    database_url: str = ""
    #: The national node's gRPC address; empty: its ``listen``.
    national_address: str = ""
    #: The portal's client certificate and key from the national CA (its calls to the national node
    #: are mutual TLS like every other); the CA is the node's ``tls.ca_file``.
    cert_file: Path | None = None
    key_file: Path | None = None
    #: The national log's verifier keys, one per line: what the portal verifies confirmations with.
    log_verifier_keys_file: Path | None = None
    #: Per client (address): reads allowed per second, and the burst above that.
    reads_per_second: float = Field(default=20.0, gt=0)
    read_burst: int = Field(default=60, ge=1)
    #: Per client: objections allowed per hour, and the burst.
    objections_per_hour: float = Field(default=10.0, gt=0)
    objection_burst: int = Field(default=3, ge=1)
    #: Per client: data demands posted per hour (each also needs a data user's token), and the burst.
    demands_per_hour: float = Field(default=30.0, gt=0)
    demand_burst: int = Field(default=5, ge=1)
    #: Take the client's address from X-Forwarded-For (only behind a reverse proxy that appends it) ...
    trust_forwarded_for: bool = False
    #: ... on requests from these proxies alone (addresses or networks, such as 10.0.0.0/8); the client
    #: is the last address in the header that is not one of them.
    trusted_proxies: list[str] = ["127.0.0.1", "::1"]
    #: Seconds a browser or proxy may keep a page or an API answer.
    cache_seconds: int = Field(default=10, ge=0, le=3600)
    #: Seconds the counts of a query (its total and counts per filter value) are remembered (0: never).
    count_cache_seconds: float = Field(default=10.0, ge=0, le=3600)
    #: Pages of recent queries remembered (0: none), each answered again only while the search index
    #: has not moved since it was read: never older than the index.
    cached_results: int = Field(default=1000, ge=0, le=100_000)
    #: Seconds to wait for the national node on an objection or a confirmation.
    national_timeout: float = Field(default=5.0, gt=0, le=60)
    #: The operator's own abbreviations and synonyms for search, added to the dictionary shipped with
    #: the project (national_node/dictionaries/synonyms.txt, whose head describes the format); read at
    #: start, so a change takes effect when the portal restarts, without rebuilding the index.
    synonyms_file: Path | None = None
    #: The portal's own metrics endpoint (``[portal.metrics]``, ``REGISTRY_PORTAL__METRICS__LISTEN``).
    metrics: MetricsSettings = MetricsSettings()

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        for entry in value:
            ipaddress.ip_network(entry, strict=False)  # a ValueError names the entry
        return value


class IndexerSettings(BaseModel):
    """The search indexer (:mod:`national_node.indexer`): follows the national log and keeps the
    portal's search index (and the duplicate check's) in step with the ledger."""

    #: Run it as a child process of the national node (the embedded default: one process to start);
    #: false: run ``python -m national_node.indexer`` as a service of its own.
    embedded: bool = True
    #: Log entries taken per round when the index is behind.
    batch: int = Field(default=5000, ge=1, le=20000)
    #: Seconds between looks at the log when the index has caught up: how far behind the ledger a
    #: search may be, at most, when the machine is not busy.
    idle_seconds: float = Field(default=0.2, gt=0, le=60)
    #: The indexer's CPU priority (Unix nice, 0-19): above 0, a sync burst that takes every core
    #: goes first and the index catches up after it.
    nice: int = Field(default=10, ge=0, le=19)
    #: The indexer's own metrics endpoint (``[indexer.metrics]``, ``REGISTRY_INDEXER__METRICS__LISTEN``).
    metrics: MetricsSettings = MetricsSettings()


class GoldenSettings(BaseModel):
    """The golden copy of the national ledger (:mod:`national_node.golden`): where it is written, when,
    and how many are kept."""

    #: Where the copies are written (beside the node; relative paths from its working directory). The
    #: portal serves them from the same directory (``/downloads``).
    directory: Path = Path("data/golden")
    #: The time of day (China Standard Time, ``HH:MM``) the day's copy is cut; empty: no daily copy
    #: (``python -m national_node.golden`` still builds one on demand).
    daily_at: str = Field(default="00:00", pattern=r"^$|^([01][0-9]|2[0-3]):[0-5][0-9]$")
    #: How many copies are kept; older ones are removed.
    keep: int = Field(default=7, ge=1, le=366)

    def daily(self) -> tuple[int, int] | None:
        if not self.daily_at:
            return None
        hour, minute = self.daily_at.split(":")
        return int(hour), int(minute)


class CodeLeaseSettings(BaseModel):
    """Code leases (:mod:`national_node.code_leases`): ranges of serials provincial nodes code from
    while the national node cannot be reached.

    The defaults: a province codes a few hundred registrations a day at the busiest, so 1,000 serials
    carry it through the longest outage planned for (a day) with room to spare, and a province holds
    the current lease and its successor; an unused serial costs nothing (nine characters of serial
    hold 2.6e13 per namespace and year). A term of three days keeps a revocation's reach, and the
    serials that wait for settlement, short, while a renewal a day before the end (the node's setting)
    leaves a whole day of slack for a national node that is down when it asks.
    """

    #: Serials per lease.
    size: int = Field(default=1000, ge=1, le=1_000_000)
    #: Hours a lease is valid from its grant (never past the end of its year).
    term_hours: float = Field(default=72.0, gt=0, le=24 * 366)
    #: Seconds the national node must have been unreachable before a node codes from a lease (stated
    #: in each lease; the node waits that long, the national node checks it).
    offline_after_seconds: float = Field(default=30.0, ge=1, le=86400)
    #: Open (granted, unexpired, unrevoked, not used up) leases a node may hold per namespace.
    open_per_namespace: int = Field(default=2, ge=1, le=10)
    #: Seconds by which a node's clock may differ from this node's: the term is checked with this much
    #: room, and a lease is settled only this long after it ran out.
    clock_tolerance_seconds: float = Field(default=300.0, ge=0, le=86400)
    #: Seconds a link's silence may fall short of ``offline_after_seconds`` and still count: the node
    #: counts from its first failed call, this node from the last call it heard, and a reply can be lost
    #: on its way back.
    silence_grace_seconds: float = Field(default=5.0, ge=0, le=3600)
    #: Days before the end of a year in which a node may already take leases of the next year.
    next_year_days: int = Field(default=31, ge=1, le=60)
    #: Seconds between looks for leases to settle.
    settle_seconds: float = Field(default=10.0, gt=0, le=3600)


class NationalSettings(NodeSettings):
    """The national node: the coding authority and the node directory."""

    listen: str = "127.0.0.1:50051"
    database_url: str = "sqlite:///data/national.db"
    #: Every provincial node keeps one upward stream open, and each open stream holds a thread: room
    #: for all 35 regions' streams plus the calls around them.
    max_workers: int = Field(default=100, ge=1, le=512)
    #: Processes serving ``listen`` together (the kernel spreads connections over them, SO_REUSEPORT):
    #: 0, one per core on PostgreSQL; SQLite, the embedded default, is served by one process. Each is
    #: started again when it dies; its duties (checkpoints, registration duties, the indexer) are
    #: done by one process at a time, the holder of its lease (``common.leases``).
    workers: int = Field(default=0, ge=0, le=64)
    #: After a restore from a backup (``REGISTRY_RECOVER_LOST_CODES``): a code a province sends up with
    #: an activation that the coding authority has no record of (it was assigned after the backup was
    #: taken) is recorded again, and its namespace's counter moves past it, when it is exactly what the
    #: authority would have assigned: the sending node's own namespace, the registration's object type,
    #: a registration the ledger holds waiting for its code, no other holder. Off in normal running, when
    #: such a code is refused (a node cannot code for itself); on for the restart after a restore, off
    #: again once every province agrees (docs/operations.md).
    recover_lost_codes: bool = False
    #: Regions that run their own node. Every other province-level region is served by proxy.
    provincial_nodes: list[ProvincialNodeEntry] = Field(default_factory=list)
    #: The public portal.
    portal: PortalSettings = PortalSettings()
    #: The search indexer.
    indexer: IndexerSettings = IndexerSettings()
    #: The golden copy.
    golden: GoldenSettings = GoldenSettings()
    #: Code leases granted to provincial nodes.
    code_leases: CodeLeaseSettings = CodeLeaseSettings()

    @model_validator(mode="after")
    def _workers_need_postgresql(self) -> Self:
        if self.workers > 1 and self.database_url.startswith("sqlite"):
            raise ValueError(
                f"workers = {self.workers} needs PostgreSQL: SQLite takes one writer at a time, so the"
                " embedded default is served by one process (set workers = 1 or 0, or a PostgreSQL"
                " database_url)"
            )
        return self

    def worker_count(self) -> int:
        """How many processes serve: ``workers``, or when 0, one per core on PostgreSQL, one on SQLite."""
        if self.workers:
            return self.workers
        if self.database_url.startswith("sqlite"):
            return 1
        return max(1, len(os.sched_getaffinity(0)))

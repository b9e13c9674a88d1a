"""Settings of the national node."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, Field, field_validator

from common import regions
from common.settings import NodeSettings

__all__ = ["IndexerSettings", "NationalSettings", "PortalSettings", "ProvincialNodeEntry"]


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
    #: Take the client's address from X-Forwarded-For (only behind a reverse proxy that sets it).
    trust_forwarded_for: bool = False
    #: Seconds a browser or proxy may keep a page or an API answer.
    cache_seconds: int = Field(default=10, ge=0, le=3600)
    #: Seconds the counts of a query (its total and counts per filter value) are remembered (0: never).
    count_cache_seconds: float = Field(default=10.0, ge=0, le=3600)
    #: Pages of recent queries remembered (0: none), each answered again only while the search index
    #: has not moved since it was read: never older than the index.
    cached_results: int = Field(default=1000, ge=0, le=100_000)
    #: Seconds to wait for the national node on an objection or a confirmation.
    national_timeout: float = Field(default=5.0, gt=0, le=60)


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


class NationalSettings(NodeSettings):
    """The national node: the coding authority and the node directory."""

    listen: str = "127.0.0.1:50051"
    database_url: str = "sqlite:///data/national.db"
    #: Every provincial node keeps one upward stream open, and each open stream holds a thread: room
    #: for all 35 regions' streams plus the calls around them.
    max_workers: int = Field(default=100, ge=1, le=512)
    #: Regions that run their own node. Every other province-level region is served by proxy.
    provincial_nodes: list[ProvincialNodeEntry] = Field(default_factory=list)
    #: The public portal.
    portal: PortalSettings = PortalSettings()
    #: The search indexer.
    indexer: IndexerSettings = IndexerSettings()

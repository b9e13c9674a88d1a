"""Settings of a provincial node."""

from __future__ import annotations

from pydantic import Field, field_validator

from common import regions
from common.settings import NodeSettings

__all__ = ["ProvincialSettings"]


class ProvincialSettings(NodeSettings):
    """A provincial node: registers the subjects of its region and gets codes from the national node."""

    #: The GB/T 2260 province-level region this node serves (also its issuer namespace).
    region: str
    #: host:port of the national node.
    national_address: str = "127.0.0.1:50051"
    listen: str = "127.0.0.1:50061"
    database_url: str = "sqlite:///data/provincial.db"
    #: Seconds every call to the national node may take.
    national_timeout: float = 10.0
    #: Run the sync daemon inside the node; false when it runs as its own process
    #: (``python -m provincial_node.sync --config ...``).
    sync_in_process: bool = True
    #: Changes per upward batch.
    sync_batch_size: int = Field(default=500, ge=1, le=5000)

    @field_validator("region")
    @classmethod
    def _province(cls, value: str) -> str:
        region = regions.get(value)
        if region.code == regions.NATIONAL:
            raise ValueError("a provincial node serves a province-level region, not 100000")
        return region.code

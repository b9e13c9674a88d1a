"""Settings of a provincial node."""

from __future__ import annotations

from pydantic import BaseModel, Field, field_validator

from common import regions
from common.settings import NodeSettings

__all__ = ["CodeLeaseKeeping", "ProvincialSettings"]


class CodeLeaseKeeping(BaseModel):
    """This node's code leases (CodeLease in the contract): taken ahead of need from the national node,
    renewed in the background, used only while the national node cannot be reached. Their size, term
    and how long the national node must be unreachable first are the national node's to set (each
    lease states them); when to renew is this node's."""

    #: Keep leases and code from them during an outage (needs ``transparency.log_verifier_keys_file``
    #: to check each lease's signature).
    enabled: bool = True
    #: Seconds between looks at the leases (renewal, revocations).
    check_seconds: float = Field(default=30.0, gt=0, le=86400)
    #: Renew when the usable serials of a namespace fall below this share of a lease ...
    renew_below: float = Field(default=0.5, gt=0, le=1)
    #: ... or when the newest lease runs out within this many hours.
    renew_before_hours: float = Field(default=24.0, ge=0, le=24 * 366)


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
    #: Code leases, to code through an outage of the national node (``[code_leases]``).
    code_leases: CodeLeaseKeeping = CodeLeaseKeeping()

    @field_validator("region")
    @classmethod
    def _province(cls, value: str) -> str:
        region = regions.get(value)
        if region.code == regions.NATIONAL:
            raise ValueError("a provincial node serves a province-level region, not 100000")
        return region.code

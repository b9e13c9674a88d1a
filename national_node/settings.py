"""Settings of the national node."""

from __future__ import annotations

from pydantic import BaseModel, Field, field_validator

from common import regions
from common.settings import NodeSettings

__all__ = ["NationalSettings", "ProvincialNodeEntry"]


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


class NationalSettings(NodeSettings):
    """The national node: the coding authority and the node directory."""

    listen: str = "127.0.0.1:50051"
    database_url: str = "sqlite:///data/national.db"
    #: Every provincial node keeps one upward stream open, and each open stream holds a thread: room
    #: for all 35 regions' streams plus the calls around them.
    max_workers: int = Field(default=100, ge=1, le=512)
    #: Regions that run their own node. Every other province-level region is served by proxy.
    provincial_nodes: list[ProvincialNodeEntry] = Field(default_factory=list)

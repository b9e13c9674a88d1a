"""Which subjects the national node registers, and how it codes its own registrations."""

from __future__ import annotations

from common import regions, uscc
from common.codes import ObjectType
from common.db import Database
from common.errors import PermissionDenied
from national_node.coding import CodeRequest, CodingAuthority
from national_node.directory import OWN_NODE, get_node

__all__ = ["NationalCodes", "NationalJurisdiction"]


class NationalJurisdiction:
    """Central bodies, and subjects of regions that run no node of their own (proxy registration)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def check_subject(self, subject: uscc.USCC, *, central: bool, field: str) -> None:
        province = subject.province
        if central or province.code == regions.NATIONAL:
            return
        with self.db.transaction(write=False) as session:
            node = get_node(session, province.code)
        if node.mode == OWN_NODE:
            where = f" at {node.address}" if node.address else ""
            raise PermissionDenied(
                "SUBJECT_HAS_PROVINCIAL_NODE",
                f"{province.name} ({province.code}) runs its own node: its subjects register with"
                f" nodes/{province.code}{where}; central bodies set subject.central",
                metadata={"field": field, "subject_region": province.code, "node": f"nodes/{province.code}"},
            )


class NationalCodes:
    """The national node's own registrations are coded in-process, in namespace 100000."""

    def __init__(self, authority: CodingAuthority) -> None:
        self.authority = authority

    def assign(self, *, registration: str, object_type: int, subject_uscc: str, request_id: str) -> str:
        subject = uscc.parse(subject_uscc)
        row, _ = self.authority.assign(
            CodeRequest(
                node=regions.NATIONAL,
                issuer=regions.NATIONAL,
                object_type=ObjectType(object_type),
                registration=registration,
                subject_uscc=subject.value,
                subject_province=subject.province.code,
                request_id=request_id,
            )
        )
        return row.code

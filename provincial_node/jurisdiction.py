"""Which subjects a provincial node registers: those its region holds, central bodies excepted."""

from __future__ import annotations

from common import regions, uscc
from common.errors import PermissionDenied

__all__ = ["ProvincialJurisdiction"]


class ProvincialJurisdiction:
    def __init__(self, region: str) -> None:
        self.region = region

    def check_subject(self, subject: uscc.USCC, *, central: bool, field: str) -> None:
        if central:
            raise PermissionDenied(
                "CENTRAL_BODY",
                "central agencies and central enterprises register with the national node (nodes/100000)",
                metadata={"field": "registration.content.subject.central"},
            )
        if subject.province.code != self.region:
            here = regions.get(self.region)
            raise PermissionDenied(
                "SUBJECT_OUTSIDE_JURISDICTION",
                f"the subject's USCC places it in {subject.province.name} ({subject.province.code});"
                f" this node registers subjects of {here.name} ({here.code}) only",
                metadata={"field": field, "subject_region": subject.province.code},
            )

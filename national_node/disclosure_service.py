"""``registry.v1.DisclosureService``: authorised-operation disclosure, served by the national node
(:mod:`national_node.disclosures`)."""

from __future__ import annotations

from common.gen.registry.v1 import disclosure_pb2 as ds
from common.gen.registry.v1 import disclosure_service_pb2 as dss
from common.rpc.call import Call
from national_node.disclosures import DisclosureDesk

__all__ = ["DisclosureServicer"]


class DisclosureServicer:
    def __init__(self, desk: DisclosureDesk) -> None:
        self._desk = desk

    def FileDisclosure(self, request: dss.FileDisclosureRequest, call: Call) -> ds.Disclosure:
        return self._desk.file(request, call)

    def GetDisclosure(self, request: dss.GetDisclosureRequest, call: Call) -> ds.Disclosure:
        return self._desk.get(request)

    def ListDisclosures(self, request: dss.ListDisclosuresRequest, call: Call) -> dss.ListDisclosuresResponse:
        return self._desk.list_disclosures(request)

    def ListOverdueDisclosures(
        self, request: dss.ListOverdueDisclosuresRequest, call: Call
    ) -> dss.ListOverdueDisclosuresResponse:
        return self._desk.overdue(request)

"""``registry.v1.DemandService``: data demands, served by the national node (:mod:`national_node.demands`)."""

from __future__ import annotations

from common.gen.registry.v1 import demand_pb2 as d
from common.gen.registry.v1 import demand_service_pb2 as ds
from common.rpc.call import Call
from national_node.demands import DemandDesk

__all__ = ["DemandServicer"]


class DemandServicer:
    def __init__(self, desk: DemandDesk) -> None:
        self._desk = desk

    def CreateDemand(self, request: ds.CreateDemandRequest, call: Call) -> d.Demand:
        return self._desk.create(request, call)

    def GetDemand(self, request: ds.GetDemandRequest, call: Call) -> d.Demand:
        return self._desk.get(request, call)

    def ListDemands(self, request: ds.ListDemandsRequest, call: Call) -> ds.ListDemandsResponse:
        return self._desk.list_demands(request)

    def AnswerDemand(self, request: ds.AnswerDemandRequest, call: Call) -> d.Demand:
        return self._desk.answer(request, call)

    def CloseDemand(self, request: ds.CloseDemandRequest, call: Call) -> d.Demand:
        return self._desk.close(request, call)

    def WithdrawDemand(self, request: ds.WithdrawDemandRequest, call: Call) -> d.Demand:
        return self._desk.withdraw(request, call)

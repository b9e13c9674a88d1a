"""``registry.v1.ShareService``: share requests, served by the national node (:mod:`national_node.shares`)."""

from __future__ import annotations

from common.gen.registry.v1 import share_pb2 as sh
from common.gen.registry.v1 import share_service_pb2 as ss
from common.rpc.call import Call
from national_node.shares import ShareDesk

__all__ = ["ShareServicer"]


class ShareServicer:
    def __init__(self, desk: ShareDesk) -> None:
        self._desk = desk

    def CreateShareRequest(self, request: ss.CreateShareRequestRequest, call: Call) -> sh.ShareRequest:
        return self._desk.create(request, call)

    def GetShareRequest(self, request: ss.GetShareRequestRequest, call: Call) -> sh.ShareRequest:
        return self._desk.get(request, call)

    def ListShareRequests(
        self, request: ss.ListShareRequestsRequest, call: Call
    ) -> ss.ListShareRequestsResponse:
        return self._desk.list_requests(request, call)

    def ReplyShareRequest(self, request: ss.ReplyShareRequestRequest, call: Call) -> sh.ShareRequest:
        return self._desk.reply(request, call)

    def ExtendShareRequest(self, request: ss.ExtendShareRequestRequest, call: Call) -> sh.ShareRequest:
        return self._desk.extend(request, call)

    def SupplementShareRequest(
        self, request: ss.SupplementShareRequestRequest, call: Call
    ) -> sh.ShareRequest:
        return self._desk.supplement(request, call)

    def DeliverShareRequest(self, request: ss.DeliverShareRequestRequest, call: Call) -> sh.ShareRequest:
        return self._desk.deliver(request, call)

    def RecordUsage(self, request: ss.RecordUsageRequest, call: Call) -> sh.ShareRequest:
        return self._desk.record_usage(request, call)

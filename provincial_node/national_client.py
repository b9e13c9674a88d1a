"""The provincial node's client of the national node: codes, with retries and deadlines."""

from __future__ import annotations

import logging

import grpc

from common.gen.registry.v1 import national_service_pb2 as ns
from common.gen.registry.v1 import national_service_pb2_grpc as ns_grpc
from common.gen.registry.v1 import registration_pb2 as r
from common.retry import retrying

__all__ = ["NationalClient"]

logger = logging.getLogger(__name__)


class NationalClient:
    """Calls the national node on behalf of one provincial node."""

    def __init__(
        self, address: str, *, region: str, timeout: float = 10.0, retry_seconds: float = 30.0
    ) -> None:
        self.region = region
        self.timeout = timeout
        self.retry_seconds = retry_seconds
        self._channel = grpc.insecure_channel(address)
        self._stub = ns_grpc.NationalServiceStub(self._channel)

    def assign(self, *, registration: str, object_type: int, subject_uscc: str, request_id: str) -> str:
        """The code for ``registration``; safe to call again with the same request id."""
        request = ns.AssignCodeRequest(
            node=f"nodes/{self.region}",
            issuer=self.region,
            object_type=r.ObjectType.Name(object_type),
            registration=registration,
            subject_uscc=subject_uscc,
            request_id=request_id,
        )
        for attempt in retrying(idempotent=True, max_seconds=self.retry_seconds):
            with attempt:
                return self._stub.AssignCode(request, timeout=self.timeout).code
        raise AssertionError("unreachable: retrying re-raises the last error")

    def close(self) -> None:
        self._channel.close()

"""The provincial node's client of the national node: codes (and duplicate checks, confirmation
proofs, the revocation list), on a channel that heals by itself.

A code request has a short deadline and is not retried here: the node's coding loop
(:class:`common.registration.duties.Duties`) is the retry, with backoff, so that an unreachable national
node costs one short wait per round, not one per registration.
"""

from __future__ import annotations

import logging
import time

import grpc

from common import names
from common.errors import Unavailable
from common.gen.registry.v1 import log_service_pb2 as ls
from common.gen.registry.v1 import log_service_pb2_grpc as ls_grpc
from common.gen.registry.v1 import national_service_pb2 as ns
from common.gen.registry.v1 import national_service_pb2_grpc as ns_grpc
from common.gen.registry.v1 import registration_pb2 as r
from common.registration.service import ConfirmationFile
from common.retry import DEFAULT_BACKOFF, is_retryable
from common.rpc.channels import ReplaceableChannel
from common.rpc.tls import Files
from common.security.identity import NATIONAL_SERVER_NAME
from common.transparency.entry import COSIGNATURE_WAIT

__all__ = ["NationalClient"]

logger = logging.getLogger(__name__)

#: Seconds a duplicate check may take at most (a clerk's acceptance waits for it), and seconds it is not
#: tried after the national node did not answer one.
DUPLICATES_TIMEOUT, DUPLICATES_PAUSE = 3.0, 10.0


class NationalClient:
    """Calls the national node on behalf of one provincial node."""

    def __init__(self, address: str, *, region: str, files: Files, timeout: float = 5.0) -> None:
        self.region = region
        self.timeout = timeout
        self._channel = ReplaceableChannel(
            address, ns_grpc.NationalServiceStub, files, server_name=NATIONAL_SERVER_NAME
        )
        self._log = ReplaceableChannel(
            address, ls_grpc.LogServiceStub, files, server_name=NATIONAL_SERVER_NAME
        )
        self._duplicates_paused_until, self._duplicates_failure = 0.0, ""

    @property
    def stub(self) -> ns_grpc.NationalServiceStub:
        """NationalService on the node's channel to the national node."""
        return self._channel.stub

    def assign(self, *, registration: str, object_type: int, subject_uscc: str, request_id: str) -> str:
        """The code for ``registration``; safe to call again with the same request id."""
        request = ns.AssignCodeRequest(
            node=names.node_name(self.region),
            issuer=self.region,
            object_type=r.ObjectType.Name(object_type),
            registration=registration,
            subject_uscc=subject_uscc,
            request_id=request_id,
        )
        with self._channel.calling() as stub:
            return stub.AssignCode(request, timeout=self.timeout).code

    def find_duplicates(
        self, content: r.RegistrationContent, *, registration: str, uid: str
    ) -> list[r.DuplicateCandidate]:
        """Possible duplicates of an application (DuplicateSource), asked while a clerk waits: at most
        :data:`DUPLICATES_TIMEOUT` seconds (or the national timeout, if shorter) in all. The call has no
        side effects, so UNAVAILABLE, RESOURCE_EXHAUSTED with a retry delay (no sooner than that delay),
        and CANCELLED (the channel was replaced under the call because another call timed out), are
        tried again after a backoff within what is left of that time, up
        to three attempts; anything else raises at once. After the national node did not answer, it is
        not asked again for :data:`DUPLICATES_PAUSE` seconds (UNAVAILABLE at once): during a partition
        each acceptance would otherwise wait the whole time."""
        paused = self._duplicates_paused_until - time.monotonic()
        if paused > 0:
            raise Unavailable(
                "NATIONAL_NODE_UNREACHABLE",
                f"not asked: the national node did not answer {DUPLICATES_PAUSE - paused:.0f} s ago"
                f" ({self._duplicates_failure})",
            )
        request = ns.FindDuplicatesRequest(content=content, registration=registration)
        deadline = time.monotonic() + min(self.timeout, DUPLICATES_TIMEOUT)
        failures = 0
        while True:
            try:
                with self._channel.calling() as stub:
                    left = max(0.1, deadline - time.monotonic())
                    return list(stub.FindDuplicates(request, timeout=left).candidates)
            except grpc.RpcError as error:
                failures += 1
                code = error.code() if isinstance(error, grpc.Call) else grpc.StatusCode.UNKNOWN
                wait = DEFAULT_BACKOFF.delay(failures, error)
                again = code == grpc.StatusCode.CANCELLED or is_retryable(error, idempotent=False)
                if again and failures < 3 and time.monotonic() + wait < deadline:
                    time.sleep(wait)
                    continue
                if again or code == grpc.StatusCode.DEADLINE_EXCEEDED:
                    self._duplicates_failure = code.name
                    self._duplicates_paused_until = time.monotonic() + DUPLICATES_PAUSE
                raise

    def revocation_list(self) -> bytes:
        """The national CA's current revocation list (DER), as the national node publishes it."""
        with self._channel.calling() as stub:
            return stub.GetRevocationList(ns.GetRevocationListRequest(), timeout=self.timeout).crl

    def tlog_proof(self, code: str, revision: int) -> ConfirmationFile:
        """A confirmation's file from the national log (ConfirmationProofs); never raises. The national
        node may wait a few seconds for its witnesses' cosignatures: the deadline allows for it."""
        request = ls.GetInclusionProofRequest(code=code, revision=revision)
        try:
            with self._log.calling() as stub:
                proof = stub.GetInclusionProof(request, timeout=min(self.timeout, 3.0) + COSIGNATURE_WAIT)
        except grpc.RpcError as error:
            if isinstance(error, grpc.Call) and error.code() in (
                grpc.StatusCode.NOT_FOUND,
                grpc.StatusCode.FAILED_PRECONDITION,
            ):
                return ConfirmationFile(status=error.details() or "not in the national log yet")
            code_name = error.code().name if isinstance(error, grpc.Call) else "UNKNOWN"
            return ConfirmationFile(status=f"the national node did not answer ({code_name}); try again later")
        return ConfirmationFile(
            tlog_proof=proof.tlog_proof,
            cosigned_by=tuple(proof.checkpoint.cosigned_by),
            witnesses_pending=tuple(proof.witnesses_pending),
        )

    def close(self) -> None:
        self._channel.close()
        self._log.close()

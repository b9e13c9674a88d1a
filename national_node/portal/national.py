"""The portal's calls to the national node: filing objections, fetching confirmations, reading and posting
data demands, over mutual TLS
with the portal's own certificate, retried where retrying is safe; confirmations verified here."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import grpc

from common.gen.registry.v1 import demand_pb2 as d
from common.gen.registry.v1 import demand_service_pb2 as ds
from common.gen.registry.v1 import (
    demand_service_pb2_grpc,
    log_service_pb2,
    log_service_pb2_grpc,
    national_service_pb2_grpc,
    node_pb2,
    registration_service_pb2,
    registration_service_pb2_grpc,
)
from common.gen.registry.v1 import national_service_pb2 as ns
from common.retry import retrying
from common.rpc.channels import ReplaceableChannel
from common.rpc.status import details_of
from common.rpc.tls import Files
from common.security.identity import NATIONAL_SERVER_NAME
from common.security.local import KeyFile
from common.settings import TlsSettings
from common.transparency.entry import COSIGNATURE_WAIT, VerifiedConfirmation, verify_confirmation
from common.transparency.verify import VerificationError

__all__ = ["Confirmation", "NationalError", "NationalGateway", "NodeRules"]

T = TypeVar("T")


class NationalError(Exception):
    """A failed call to the national node: its gRPC code, reason, message and field violations."""

    def __init__(
        self, code: grpc.StatusCode, reason: str, message: str, violations: list[tuple[str, str, str]]
    ) -> None:
        super().__init__(message)
        self.code, self.reason, self.message, self.violations = code, reason, message, violations

    @classmethod
    def of(cls, error: grpc.RpcError) -> NationalError:
        details = details_of(error)
        if not details.from_server and details.code in (
            grpc.StatusCode.UNAVAILABLE,
            grpc.StatusCode.DEADLINE_EXCEEDED,
        ):
            message = "the national node cannot be reached now; try again soon"
            return cls(details.code, "NATIONAL_UNAVAILABLE", message, [])
        return cls(details.code, details.reason, details.message, details.violations)


#: Seconds the nodes' business rules are kept before they are asked again.
RULES_SECONDS = 60.0


@dataclass(frozen=True)
class NodeRules:
    """A node's business rules as it published them, or why it did not."""

    node: str
    rules: registration_service_pb2.BusinessRules | None
    error: str = ""


@dataclass(frozen=True)
class Confirmation:
    """A confirmation file as the national node served it, what verifying it here established (the
    witnesses whose cosignatures verified among them), and whose cosignatures are pending."""

    tlog_proof: str
    verified: VerifiedConfirmation | None
    error: str = ""
    #: Why it is not verified: NO_LOG_KEY (the portal has no key of the log) or NOT_VERIFIED.
    reason: str = ""
    #: The witnesses (``nodes/{region}``) whose cosignatures of its checkpoint are still pending.
    witnesses_pending: tuple[str, ...] = ()


class NationalGateway:
    def __init__(
        self,
        address: str,
        *,
        cert_file: Path | None,
        key_file: Path | None,
        ca_file: Path | None,
        log_keys_file: Path | None,
        timeout: float,
        witness_keys_file: Path | None = None,
    ) -> None:
        files = Files(TlsSettings(cert_file=cert_file, key_file=key_file, ca_file=ca_file))
        self._national = ReplaceableChannel(
            address, national_service_pb2_grpc.NationalServiceStub, files, server_name=NATIONAL_SERVER_NAME
        )
        self._log = ReplaceableChannel(
            address, log_service_pb2_grpc.LogServiceStub, files, server_name=NATIONAL_SERVER_NAME
        )
        self._demands = ReplaceableChannel(
            address, demand_service_pb2_grpc.DemandServiceStub, files, server_name=NATIONAL_SERVER_NAME
        )
        self._registry = ReplaceableChannel(
            address,
            registration_service_pb2_grpc.RegistrationServiceStub,
            files,
            server_name=NATIONAL_SERVER_NAME,
        )
        self._files = files
        #: The provinces' nodes, by address: their RegistrationService (public: their business rules).
        self._provinces: dict[
            str, ReplaceableChannel[registration_service_pb2_grpc.RegistrationServiceStub]
        ] = {}
        self._rules: tuple[float, list[NodeRules]] | None = None
        self._rules_lock = threading.Lock()
        self.timeout = timeout
        self.log_keys_file = log_keys_file
        self._log_keys: KeyFile | None = None
        self.witness_keys_file = witness_keys_file
        self._witness_keys: KeyFile | None = None

    def close(self) -> None:
        self._national.close()
        self._log.close()
        self._demands.close()
        self._registry.close()
        for channel in self._provinces.values():
            channel.close()

    def business_rules(self) -> list[NodeRules]:
        """Every node's business rules (RegistrationService.GetBusinessRules, public): the national
        node's, then each province's that runs its own node, asked at its own address (from the
        directory); a node that does not answer is listed without them. Kept for a minute."""
        with self._rules_lock:
            if self._rules is not None and time.monotonic() - self._rules[0] < RULES_SECONDS:
                return self._rules[1]
            targets = [("nodes/100000", self._registry.stub)]
            try:
                nodes = self._national.stub.ListNodes(
                    ns.ListNodesRequest(page_size=100), timeout=self.timeout
                )
            except grpc.RpcError as error:
                raise NationalError.of(error) from None
            unknown = []
            for node in nodes.nodes:
                if node.mode != node_pb2.Node.OWN_NODE or node.region == "100000":
                    continue
                if not node.address:
                    unknown.append(
                        NodeRules(node.name, None, "the national directory holds no address of it")
                    )
                    continue
                channel = self._provinces.get(node.address)
                if channel is None:
                    channel = self._provinces[node.address] = ReplaceableChannel(
                        node.address, registration_service_pb2_grpc.RegistrationServiceStub, self._files
                    )
                targets.append((node.name, channel.stub))
            with ThreadPoolExecutor(max_workers=8, thread_name_prefix="rules") as pool:
                found = [*pool.map(lambda target: self._rules_of(*target), targets), *unknown]
            self._rules = (time.monotonic(), found)
            return found

    def _rules_of(self, node: str, stub: registration_service_pb2_grpc.RegistrationServiceStub) -> NodeRules:
        request = registration_service_pb2.GetBusinessRulesRequest(name=f"{node}/businessRules")
        try:
            return NodeRules(node, stub.GetBusinessRules(request, timeout=min(self.timeout, 3.0)))
        except grpc.RpcError as error:
            return NodeRules(node, None, details_of(error).message or "the node did not answer")

    def log_keys(self) -> list[str]:
        """The log's verifier keys, read again only when the file changes."""
        if self._log_keys is None:
            if self.log_keys_file is None or not self.log_keys_file.is_file():
                return []
            self._log_keys = KeyFile(self.log_keys_file)
        return self._log_keys.keys()

    def witness_keys(self) -> list[str]:
        """The witnesses' verifier keys (the national node's ``transparency.witness_keys_file``), read
        again only when the file changes."""
        if self._witness_keys is None:
            if self.witness_keys_file is None or not self.witness_keys_file.is_file():
                return []
            self._witness_keys = KeyFile(self.witness_keys_file)
        return self._witness_keys.keys()

    def file_objection(self, request: ns.FileObjectionRequest) -> ns.FiledObjection:
        try:
            for attempt in retrying(idempotent=True, max_attempts=3, max_seconds=self.timeout * 2):
                with attempt:
                    return self._national.stub.FileObjection(request, timeout=self.timeout)
        except grpc.RpcError as error:
            raise NationalError.of(error) from None
        raise AssertionError("unreachable")

    def list_demands(self, request: ds.ListDemandsRequest) -> ds.ListDemandsResponse:
        return self._read(lambda: self._demands.stub.ListDemands(request, timeout=self.timeout))

    def get_demand(self, name: str) -> d.Demand:
        return self._read(
            lambda: self._demands.stub.GetDemand(ds.GetDemandRequest(name=name), timeout=self.timeout)
        )

    def create_demand(self, request: ds.CreateDemandRequest, bearer: str) -> d.Demand:
        """Post a demand as the person whose bearer token the portal was given (the national node checks
        it; the portal's own certificate grants nothing beyond the public's)."""
        metadata = (("authorization", f"Bearer {bearer}"),)
        return self._read(
            lambda: self._demands.stub.CreateDemand(request, timeout=self.timeout, metadata=metadata),
            idempotent=True,
        )

    def _read(self, call: Callable[[], T], *, idempotent: bool = True) -> T:
        try:
            for attempt in retrying(idempotent=idempotent, max_attempts=3, max_seconds=self.timeout * 2):
                with attempt:
                    return call()
        except grpc.RpcError as error:
            raise NationalError.of(error) from None
        raise AssertionError("unreachable")

    def confirmation(self, code: str) -> Confirmation | None:
        """The confirmation file of a code, verified against the log's keys and the witnesses'; None
        when the log has no entry of it yet. The national node may wait a few seconds for its witnesses'
        cosignatures: the deadline allows for it."""
        try:
            proof = self._log.stub.GetInclusionProof(
                log_service_pb2.GetInclusionProofRequest(code=code), timeout=self.timeout + COSIGNATURE_WAIT
            )
        except grpc.RpcError as error:
            failure = NationalError.of(error)
            if failure.code in (grpc.StatusCode.NOT_FOUND, grpc.StatusCode.FAILED_PRECONDITION):
                return None
            raise failure from None
        keys, pending = self.log_keys(), tuple(proof.witnesses_pending)
        if not keys:
            message = "the portal has no verifier key of the national log"
            return Confirmation(proof.tlog_proof, None, message, "NO_LOG_KEY")
        try:
            verified = verify_confirmation(proof.tlog_proof, keys, witness_keys=self.witness_keys())
        except VerificationError as error:
            return Confirmation(proof.tlog_proof, None, f"{error.reason}: {error.message}", "NOT_VERIFIED")
        return Confirmation(proof.tlog_proof, verified, witnesses_pending=pending)

"""NationalService over gRPC: request validation, then the coding authority and the directory."""

from __future__ import annotations

import logging

import grpc
from google.protobuf.timestamp_pb2 import Timestamp

from common import codes, regions
from common.db import Database
from common.errors import InvalidArgument, InvalidValue
from common.gen.registry.v1 import (
    code_pb2,
    national_service_pb2,
    national_service_pb2_grpc,
    node_pb2,
)
from common.paging import decode_token, encode_token, page_size
from common.validation import REGISTRATION_NAME, Checker, parse_code
from national_node.coding import CodeRequest, CodingAuthority
from national_node.directory import get_node, list_nodes
from national_node.models import CodeAssignmentRow, NodeRow

__all__ = ["NationalServicer"]

logger = logging.getLogger(__name__)

_DEFECTS = {str(d): code_pb2.CodeDefect.Value(f"CODE_DEFECT_{d.name}") for d in codes.CodeDefect}


def _timestamp(value) -> Timestamp:  # noqa: ANN001 - datetime
    stamp = Timestamp()
    stamp.FromDatetime(value)
    return stamp


def assignment_message(row: CodeAssignmentRow) -> code_pb2.CodeAssignment:
    return code_pb2.CodeAssignment(
        name=f"codes/{row.code}",
        code=row.code,
        object_type=row.object_type,
        issuer=row.issuer,
        year=row.year,
        serial=row.serial,
        registration=row.registration,
        subject_uscc=row.subject_uscc,
        requested_by=f"nodes/{row.requested_by}",
        request_id=row.request_id,
        assign_time=_timestamp(row.assigned_at),
    )


def node_message(row: NodeRow) -> node_pb2.Node:
    return node_pb2.Node(
        name=f"nodes/{row.region}",
        region=row.region,
        display_name=regions.get(row.region).name,
        mode=node_pb2.Node.Mode.Value(row.mode),
        address=row.address,
        update_time=_timestamp(row.updated_at),
    )


def _code_from_name(name: str, field: str = "name") -> str:
    if not name.startswith("codes/"):
        raise InvalidArgument.for_field(field, InvalidValue("FIELD_MALFORMED", "must look like codes/{code}"))
    return parse_code(name.removeprefix("codes/"), field=field)


class NationalServicer(national_service_pb2_grpc.NationalServiceServicer):
    """The coding authority and the node directory."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._authority = CodingAuthority(db)

    def AssignCode(self, request: national_service_pb2.AssignCodeRequest, context: grpc.ServicerContext):
        check = Checker()
        node = check.node_name("node", request.node)
        issuer = check.region("issuer", request.issuer)
        if request.object_type not in set(codes.ObjectType):
            check.fail("object_type", "FIELD_REQUIRED", "must be 1, 2 or 3 (PUBLIC_DATA_RESOURCE, ...)")
        if len(request.registration) > 200:
            check.fail("registration", "FIELD_TOO_LONG", "is longer than 200 characters")
        else:
            match = check.pattern(
                "registration",
                request.registration,
                REGISTRATION_NAME,
                "nodes/{region}/registrations/{id} (id: 1-63 of a-z, 0-9, '-')",
            )
            if match and node is not None and match.group(1) != node:
                check.fail(
                    "registration",
                    "FOREIGN_REGISTRATION",
                    f"must be a registration of the calling node nodes/{node}",
                )
        subject = check.uscc("subject_uscc", request.subject_uscc)
        check.request_id("request_id", request.request_id)
        check.done()
        assert node is not None and issuer is not None and subject is not None
        row, replayed = self._authority.assign(
            CodeRequest(
                node=node,
                issuer=issuer.code,
                object_type=codes.ObjectType(request.object_type),
                registration=request.registration,
                subject_uscc=subject.value,
                subject_province=subject.province.code,
                request_id=request.request_id,
            )
        )
        if replayed:
            logger.info("replayed %s for request %s", row.code, row.request_id)
        return assignment_message(row)

    def GetCodeAssignment(self, request, context):
        return assignment_message(self._authority.get(_code_from_name(request.name)))

    def VerifyCode(self, request, context):
        try:
            code = str(codes.parse(request.code))
        except InvalidValue as error:
            return national_service_pb2.VerifyCodeResponse(
                well_formed=False, defect=_DEFECTS[error.reason], message=error.message
            )
        row = self._authority.find(code)
        if row is None:
            return national_service_pb2.VerifyCodeResponse(
                well_formed=True, assigned=False, message="well formed, but not assigned"
            )
        return national_service_pb2.VerifyCodeResponse(
            well_formed=True, assigned=True, message="assigned", assignment=assignment_message(row)
        )

    def GetNode(self, request, context):
        check = Checker()
        region = check.node_name("name", request.name)
        check.done()
        with self._db.transaction(write=False) as session:
            return node_message(get_node(session, region))

    def ListNodes(self, request, context):
        size = page_size(request.page_size, default=50, maximum=100)
        after = decode_token(request.page_token) or ""
        with self._db.transaction(write=False) as session:
            rows = list_nodes(session, after=str(after), limit=size + 1)
        more = len(rows) > size
        rows = rows[:size]
        return national_service_pb2.ListNodesResponse(
            nodes=[node_message(r) for r in rows],
            next_page_token=encode_token(rows[-1].region) if more else "",
        )

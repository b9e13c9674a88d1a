"""NationalService over gRPC: request validation, then the coding authority and the directory."""

from __future__ import annotations

import logging
from datetime import timedelta

from common import codes, names, regions
from common.db import Database
from common.errors import InvalidArgument, InvalidValue, NotFound
from common.gen.registry.v1 import code_pb2, correction_pb2, node_pb2
from common.gen.registry.v1 import national_service_pb2 as ns
from common.gen.registry.v1 import registration_pb2 as r
from common.paging import PageTokens, newest_position
from common.registration.views import timestamp
from common.rpc.auth import RevocationFile
from common.rpc.call import Call
from common.validation import Checker, parse_code
from national_node.code_leases import LEASE_NAME, CodeLeases, lease_message
from national_node.coding import Assignment, CodeRequest, CodingAuthority, Orphan
from national_node.corrections import CorrectionDesk
from national_node.directory import get_node, list_nodes
from national_node.duplicates import DuplicateFinder
from national_node.models import CodeAssignmentRow, NodeRow
from national_node.objections import ObjectionDesk

__all__ = ["NationalServicer"]

logger = logging.getLogger(__name__)

_DEFECTS = {str(d): f"CODE_DEFECT_{d.name}" for d in codes.CodeDefect}
#: How long a code may wait for its registration to reach the ledger as coded before it is listed as
#: orphaned (ListOrphanedCodes' default), and the longest grace a request may ask for.
ORPHAN_GRACE, MAX_GRACE = timedelta(hours=1), timedelta(days=3650)


def assignment_message(row: Assignment | CodeAssignmentRow) -> code_pb2.CodeAssignment:
    return code_pb2.CodeAssignment(
        name=f"codes/{row.code}",
        code=row.code,
        object_type=r.ObjectType.Name(row.object_type),
        issuer=row.issuer,
        year=row.year,
        serial=row.serial,
        registration=row.registration,
        subject_uscc=row.subject_uscc,
        requested_by=names.node_name(row.requested_by),
        request_id=row.request_id,
        assign_time=timestamp(row.assigned_at),
        code_lease=getattr(row, "code_lease", None) or "",
    )


def node_message(row: NodeRow) -> node_pb2.Node:
    return node_pb2.Node(
        name=names.node_name(row.region),
        region=row.region,
        display_name=regions.get(row.region).name,
        mode=row.mode,
        address=row.address,
        update_time=timestamp(row.updated_at),
    )


def _orphan_message(orphan: Orphan) -> ns.OrphanedCode:
    message = ns.OrphanedCode(
        assignment=assignment_message(orphan.assignment), in_ledger=orphan.record is not None
    )
    if orphan.record is not None:
        reg = orphan.record.registration
        message.ledger_state = reg.state
        message.ledger_application_state = reg.current_application.state
        message.ledger_revision = orphan.record.revision
    return message


def _code_from_name(name: str, field: str = "name") -> str:
    if not name.startswith("codes/"):
        raise InvalidArgument.for_field(
            field, InvalidValue("FIELD_MALFORMED", f"must look like {names.SHAPES['code']}")
        )
    return parse_code(name.removeprefix("codes/"), field=field)


class NationalServicer:
    """``registry.v1.NationalService``: the coding authority and the node directory."""

    def __init__(
        self,
        db: Database,
        authority: CodingAuthority,
        tokens: PageTokens,
        revocations: RevocationFile | None = None,
        *,
        objections: ObjectionDesk,
        duplicates: DuplicateFinder,
        code_leases: CodeLeases,
        corrections: CorrectionDesk,
    ) -> None:
        self._db, self._authority, self._tokens = db, authority, tokens
        self._revocations = revocations
        self._objections, self._duplicates = objections, duplicates
        self._leases = code_leases
        self._corrections = corrections

    def AssignCode(self, request: ns.AssignCodeRequest, call: Call) -> code_pb2.CodeAssignment:
        check = Checker()
        node = check.node_name("node", request.node)
        issuer = check.region("issuer", request.issuer)
        if request.object_type not in {int(t) for t in codes.ObjectType}:
            check.fail("object_type", "FIELD_REQUIRED", "must be 1, 2 or 3 (PUBLIC_DATA_RESOURCE, ...)")
        if len(request.registration) > 200:
            check.fail("registration", "FIELD_TOO_LONG", "is longer than 200 characters")
        else:
            match = check.pattern(
                "registration",
                request.registration,
                names.REGISTRATION,
                names.SHAPES["registration"] + " (id: 1-63 of a-z, 0-9, '-')",
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

    def GrantCodeLease(self, request: ns.GrantCodeLeaseRequest, call: Call) -> code_pb2.CodeLease:
        check = Checker()
        node = check.node_name("node", request.node)
        if request.object_type not in {int(t) for t in codes.ObjectType}:
            check.fail("object_type", "FIELD_REQUIRED", "must be 1, 2 or 3 (PUBLIC_DATA_RESOURCE, ...)")
        if not 2000 <= request.year <= 2099:
            check.fail("year", "FIELD_OUT_OF_RANGE", "must be a four-digit year from 2000 to 2099")
        check.request_id("request_id", request.request_id)
        check.done()
        assert node is not None
        row = self._leases.grant(
            node, codes.ObjectType(request.object_type), request.year, request.request_id
        )
        return lease_message(row)

    def ListCodeLeases(self, request: ns.ListCodeLeasesRequest, call: Call) -> ns.ListCodeLeasesResponse:
        check = Checker()
        node = check.node_name("node", request.node) if request.node else None
        size = check.page_size("page_size", request.page_size, default=50, maximum=500)
        check.done()
        filters = [node or ""]
        after = self._tokens.decode("ListCodeLeases", request.page_token, filters)
        rows = self._leases.list(node, after=after, limit=size + 1)
        more = len(rows) > size
        rows = rows[:size]
        token = ""
        if more:
            token = self._tokens.encode(
                "ListCodeLeases", newest_position(rows[-1].granted_at, rows[-1].name), filters
            )
        return ns.ListCodeLeasesResponse(code_leases=[lease_message(r) for r in rows], next_page_token=token)

    def RevokeCodeLease(self, request: ns.RevokeCodeLeaseRequest, call: Call) -> code_pb2.CodeLease:
        check = Checker()
        if not LEASE_NAME.fullmatch(request.name):
            check.fail("name", "FIELD_MALFORMED", "must look like codeLeases/{issuer}-{type}-{year}-{serial}")
        reason = request.reason.strip()
        if not reason or len(reason) > 500:
            check.fail("reason", "FIELD_REQUIRED", "must be 1 to 500 characters")
        check.done()
        return lease_message(self._leases.revoke(request.name, reason))

    def FileLedgerCorrection(
        self, request: ns.FileLedgerCorrectionRequest, call: Call
    ) -> correction_pb2.LedgerCorrection:
        return self._corrections.file(request, actor=call.actor)

    def GetLedgerCorrection(
        self, request: ns.GetLedgerCorrectionRequest, call: Call
    ) -> correction_pb2.LedgerCorrection:
        return self._corrections.get(request.name)

    def ListLedgerCorrections(
        self, request: ns.ListLedgerCorrectionsRequest, call: Call
    ) -> ns.ListLedgerCorrectionsResponse:
        return self._corrections.list(request)

    def ListOrphanedCodes(
        self, request: ns.ListOrphanedCodesRequest, call: Call
    ) -> ns.ListOrphanedCodesResponse:
        check = Checker()
        size = check.page_size("page_size", request.page_size, default=50, maximum=500)
        grace = ORPHAN_GRACE
        if request.HasField("grace"):
            seconds, nanos = request.grace.seconds, request.grace.nanos
            if seconds < 0 or nanos < 0 or nanos >= 1_000_000_000 or seconds > MAX_GRACE.total_seconds():
                check.fail("grace", "FIELD_OUT_OF_RANGE", "must be from 0 to 3650 days")
            else:
                grace = timedelta(seconds=seconds, microseconds=nanos // 1000)
        check.done()
        filters = [int(grace.total_seconds() * 1_000_000)]
        after = self._tokens.decode("ListOrphanedCodes", request.page_token, filters) or ""
        orphans = self._authority.orphaned(grace=grace, after=str(after), limit=size + 1)
        more = len(orphans) > size
        orphans = orphans[:size]
        return ns.ListOrphanedCodesResponse(
            orphaned_codes=[_orphan_message(o) for o in orphans],
            next_page_token=(
                self._tokens.encode("ListOrphanedCodes", orphans[-1].assignment.code, filters) if more else ""
            ),
        )

    def GetCodeAssignment(self, request: ns.GetCodeAssignmentRequest, call: Call) -> code_pb2.CodeAssignment:
        return assignment_message(self._authority.get(_code_from_name(request.name)))

    def VerifyCode(self, request: ns.VerifyCodeRequest, call: Call) -> ns.VerifyCodeResponse:
        try:
            code = str(codes.parse(request.code))
        except InvalidValue as error:
            return ns.VerifyCodeResponse(
                well_formed=False, defect=_DEFECTS[error.reason], message=error.message
            )
        row = self._authority.find(code)
        if row is None:
            return ns.VerifyCodeResponse(
                well_formed=True, assigned=False, message="well formed, but not assigned"
            )
        return ns.VerifyCodeResponse(
            well_formed=True, assigned=True, message="assigned", assignment=assignment_message(row)
        )

    def GetNode(self, request: ns.GetNodeRequest, call: Call) -> node_pb2.Node:
        check = Checker()
        region = check.node_name("name", request.name)
        check.done()
        assert region is not None
        with self._db.transaction(write=False) as session:
            return node_message(get_node(session, region))

    def ListNodes(self, request: ns.ListNodesRequest, call: Call) -> ns.ListNodesResponse:
        check = Checker()
        size = check.page_size("page_size", request.page_size, default=50, maximum=100)
        check.done()
        after = self._tokens.decode("ListNodes", request.page_token) or ""
        with self._db.transaction(write=False) as session:
            rows = list_nodes(session, after=str(after), limit=size + 1)
        more = len(rows) > size
        rows = rows[:size]
        return ns.ListNodesResponse(
            nodes=[node_message(r) for r in rows],
            next_page_token=self._tokens.encode("ListNodes", rows[-1].region) if more else "",
        )

    def GetRevocationList(self, request: ns.GetRevocationListRequest, call: Call) -> ns.RevocationList:
        if self._revocations is None:
            raise NotFound("NO_REVOCATION_LIST", "this national node is configured without a revocation list")
        current = self._revocations.current()
        published = ns.RevocationList(crl=current.der, revoked_count=len(current.revoked_serials))
        published.issue_time.FromDatetime(current.last_update)
        if current.next_update is not None:
            published.next_update_time.FromDatetime(current.next_update)
        return published

    def FileObjection(self, request: ns.FileObjectionRequest, call: Call) -> ns.FiledObjection:
        return self._objections.file(request, actor=call.actor)

    def FindDuplicates(self, request: ns.FindDuplicatesRequest, call: Call) -> ns.FindDuplicatesResponse:
        return self._duplicates.find_request(request)

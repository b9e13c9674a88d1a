"""What the portal does, for the pages and the API alike: search, a registration's public fields, the
announcements, filing an objection, checking a code. Each answers with the API's shapes
(:mod:`national_node.portal.schemas`), which the pages render; failures are :class:`PortalError`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date
from pathlib import Path

from pydantic import BaseModel

from common import codes, regions
from common.clock import Clock, china_date
from common.errors import InvalidArgument, InvalidValue
from common.gen.registry.v1 import national_service_pb2 as ns
from common.gen.registry.v1 import registration_pb2, sync_pb2
from common.paging import PageTokens
from common.registration.content import from_date
from common.transparency.entry import WITNESS_KEY_PREFIX
from common.uscc import is_valid as is_valid_uscc
from national_node.models import SearchRow
from national_node.portal.errors import PortalError, from_national, from_registry, invalid
from national_node.portal.national import Confirmation, NationalError, NationalGateway
from national_node.portal.schemas import (
    MAX_QUERY,
    Announcement,
    AnnouncementsResponse,
    CodeCheck,
    FacetValue,
    ObjectionFiled,
    ObjectionIn,
    PublicRegistration,
    RegistrationSummary,
    SearchResponse,
    Verification,
)
from national_node.public import (
    CHANNEL_KINDS,
    NOT_STATED,
    OBJECT_TYPES,
    OPEN_ATTRIBUTES,
    SHARING_ATTRIBUTES,
    STATES,
    public_registration,
    region_label,
)
from national_node.search import Search, SearchQuery, SearchResult
from national_node.settings import PortalSettings

__all__ = [
    "UID",
    "Portal",
    "announced_row",
    "announcements",
    "code_check",
    "confirmation_file",
    "file_objection",
    "parse_query",
    "read_code",
    "registration",
    "search",
]

#: A registration's or a demand's id on the portal (a UUID).
UID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
#: The pages' sizes: results of a search, announcements.
SEARCH_PAGE, ANNOUNCEMENTS_PAGE = 20, 50


@dataclass
class Portal:
    """What the portal works with: the search over the ledger, the national node, limits, the clock."""

    settings: PortalSettings
    search: Search
    tokens: PageTokens
    national: NationalGateway
    clock: Clock
    #: Where the national node writes the golden copies (:mod:`national_node.golden`); None: none.
    downloads: Path | None = None


def _day(value: date | None) -> str:
    return value.isoformat() if value else ""


# -- search -----------------------------------------------------------------------------------------


#: The access terms' filters and their values.
_ACCESS_FILTERS = {
    "sharing_attribute": SHARING_ATTRIBUTES,
    "open_attribute": OPEN_ATTRIBUTES,
    "channel_kind": CHANNEL_KINDS,
}


def parse_query(
    q: str, filters: dict[str, str | None], sort: str, page_size: int = SEARCH_PAGE
) -> SearchQuery:
    """A search as asked; empty filters are none, values are taken without surrounding spaces."""
    if len(q) > MAX_QUERY:
        raise invalid("q", "FIELD_TOO_LONG", f"is {len(q)} characters long; the limit is {MAX_QUERY}")
    chosen: dict[str, str] = {}
    for key, value in filters.items():
        if value is None or value.strip() == "":
            continue
        value = value.strip()
        if key == "object_type" and value not in OBJECT_TYPES:
            raise invalid(key, "FIELD_MALFORMED", "must be one of " + ", ".join(OBJECT_TYPES))
        if key == "state" and value not in STATES:
            raise invalid(key, "FIELD_MALFORMED", "must be one of " + ", ".join(STATES))
        if key == "region" and not regions.is_region(value):
            raise invalid(key, "FIELD_MALFORMED", "must be a province-level region code such as 320000")
        if key == "subject" and not is_valid_uscc(value):
            raise invalid(key, "FIELD_MALFORMED", "must be a unified social credit code (18 characters)")
        if key == "update_frequency" and len(value) > 100:
            raise invalid(key, "FIELD_TOO_LONG", "is longer than 100 characters")
        if key in _ACCESS_FILTERS and value not in _ACCESS_FILTERS[key]:
            raise invalid(key, "FIELD_MALFORMED", "must be one of " + ", ".join(_ACCESS_FILTERS[key]))
        chosen[key] = value
    if sort not in ("relevance", "newest"):
        raise invalid("sort", "FIELD_MALFORMED", "must be relevance or newest")
    if not 1 <= page_size <= 100:
        raise invalid("page_size", "FIELD_OUT_OF_RANGE", "must be between 1 and 100")
    return SearchQuery(q=q.strip(), filters=chosen, sort=sort, page_size=page_size)


def summary(row: SearchRow) -> RegistrationSummary:
    return RegistrationSummary(
        id=row.uid,
        code=row.code or "",
        data_name=row.data_name,
        subject_name=row.subject_name,
        object_type=row.object_type,
        object_type_label=OBJECT_TYPES.get(row.object_type, row.object_type),
        state=row.state,
        state_label=STATES.get(row.state, row.state),
        region=row.region,
        region_label=region_label(row.region),
        update_frequency=row.update_frequency,
        summary=row.summary,
        valid_until=_day(row.valid_until),
        announcement_end=_day(row.announcement_end) if row.announced else "",
        announcement_end_provisional=row.announced and row.announcement_end_provisional,
        sharing_attribute=row.sharing_attribute,
        sharing_attribute_label=SHARING_ATTRIBUTES.get(row.sharing_attribute, NOT_STATED),
        open_attribute=row.open_attribute,
        open_attribute_label=OPEN_ATTRIBUTES.get(row.open_attribute, NOT_STATED),
        channel_kinds=row.channel_kinds.split(),
    )


def _facet_label(key: str, value: str, label: str) -> str:
    if key == "object_type":
        return OBJECT_TYPES.get(value, value)
    if key == "state":
        return STATES.get(value, value)
    if key == "region":
        return region_label(value)
    if key in _ACCESS_FILTERS:
        return _ACCESS_FILTERS[key].get(value, NOT_STATED)
    return label


def search(portal: Portal, query: SearchQuery, page_token: str) -> tuple[SearchResponse, SearchResult]:
    """A page of results with the counts per filter value (and the search's own result, whose words
    a page marks)."""
    try:
        after = portal.tokens.decode("search", page_token, query.key())
    except InvalidArgument as error:
        raise from_registry(error) from None
    result = portal.search.search(query, after)
    token = portal.tokens.encode("search", result.next_position, query.key()) if result.next_position else ""
    response = SearchResponse(
        registrations=[summary(r) for r in result.items],
        total_size=result.total,
        total_size_is_estimate=result.approximate,
        facets={
            # (An attribute not stated is no value to filter by: it is not offered.)
            key: [
                FacetValue(value=v, label=_facet_label(key, v, label), count=n)
                for v, label, n in values
                if v or key not in _ACCESS_FILTERS
            ]
            for key, values in result.facets.items()
        },
        next_page_token=token,
        partial_match=result.partial,
        omitted_words=result.omitted,
        suggestion=result.suggestion,
        synonyms=result.synonyms,
    )
    return response, result


# -- registrations and announcements ----------------------------------------------------------------


def _not_found(uid: str) -> PortalError:
    return PortalError(404, "REGISTRATION_NOT_FOUND", f"there is no registration {uid[:64]!r}", field="id")


def _found(portal: Portal, uid: str) -> tuple[SearchRow, sync_pb2.RegistrationRecord]:
    found = portal.search.get(uid) if UID.fullmatch(uid) else None
    if found is None:
        raise _not_found(uid)
    row, ledger = found
    return row, sync_pb2.RegistrationRecord.FromString(ledger.record)


def registration(portal: Portal, uid: str) -> BaseModel:
    """A registration's public fields (:data:`national_node.public.PUBLIC_FIELDS`) and its
    announcement, as :data:`~national_node.portal.schemas.PublicRegistration`."""
    row, record = _found(portal, uid)
    return PublicRegistration(
        id=row.uid,
        under_announcement=row.announced,
        announcement_end=_day(row.announcement_end) if row.announced else "",
        announcement_end_provisional=row.announced and row.announcement_end_provisional,
        **public_registration(record, region=row.region),
    )


def announced_row(portal: Portal, uid: str) -> SearchRow:
    found = portal.search.get(uid) if UID.fullmatch(uid) else None
    if found is None:
        raise _not_found(uid)
    return found[0]


def announcements(portal: Portal, page_size: int, page_token: str) -> AnnouncementsResponse:
    """What is under announcement now, closing soonest first."""
    try:
        after = portal.tokens.decode("announcements", page_token)
    except InvalidArgument as error:
        raise from_registry(error) from None
    rows = portal.search.announcements(portal.clock.today(), limit=page_size + 1, after=after)
    token = ""
    if len(rows) > page_size:
        rows = rows[:page_size]
        last = rows[-1]
        token = portal.tokens.encode("announcements", [_day(last.announcement_end), last.uid])
    return AnnouncementsResponse(
        announcements=[
            Announcement(
                id=r.uid,
                code=r.code or "",
                data_name=r.data_name,
                subject_name=r.subject_name,
                region_label=region_label(r.region),
                announcement_end=_day(r.announcement_end),
                announcement_end_provisional=r.announcement_end_provisional,
            )
            for r in rows
        ],
        next_page_token=token,
    )


# -- objections -------------------------------------------------------------------------------------


def _objection_request(registration_name: str, body: ObjectionIn) -> ns.FileObjectionRequest:
    evidence = [
        registration_pb2.Document(title=item.title.strip(), uri=item.uri.strip(), sha256=item.sha256)
        for item in body.evidence
    ]
    return ns.FileObjectionRequest(
        registration=registration_name,
        objection=registration_pb2.Objection(
            objector=f"{body.name.strip()}（{body.contact.strip()}）", reason=body.reason, evidence=evidence
        ),
        request_id=body.request_id,
    )


#: The national node's field names, as the portal's callers know them.
_OBJECTION_FIELDS = {"objection.objector": "name", "objection.reason": "reason", "request_id": "request_id"}


def file_objection(portal: Portal, row: SearchRow, body: ObjectionIn) -> ObjectionFiled:
    """File an objection with the national node, which sends it to the node that manages ``row``."""
    try:
        filed = portal.national.file_objection(_objection_request(row.name, body))
    except NationalError as error:
        mapped = dict(_OBJECTION_FIELDS)
        for i in range(len(body.evidence)):
            for part in ("title", "uri", "sha256"):
                mapped[f"objection.evidence[{i}].{part}"] = f"evidence[{i}].{part}"
        raise from_national(error, mapped) from None
    node = filed.managing_node.removeprefix("nodes/")
    end = from_date(filed.announcement_end)
    return ObjectionFiled(
        id=row.uid,
        managing_node=filed.managing_node,
        managing_region_label=region_label(node),
        file_time=filed.file_time.ToDatetime().isoformat() + "Z",
        announcement_end=_day(end),
        announcement_end_provisional=filed.announcement_end_provisional,
        request_id=body.request_id,
    )


# -- codes ------------------------------------------------------------------------------------------


def read_code(value: str, field: str = "code") -> str:
    """A code as a person types it: surrounding spaces and lower case are forgiven, and the answer is
    the code's one spelling (upper case); anything else is refused with the code's defect."""
    try:
        return str(codes.parse(value.strip().upper()))
    except InvalidValue as error:
        raise invalid(field, error.reason, error.message) from None


def _code_not_found(code: str) -> PortalError:
    return PortalError(404, "CODE_NOT_FOUND", f"no registration holds the code {code}", field="code")


def _verification(confirmation: Confirmation | None, code: str) -> Verification:
    if confirmation is None:
        message = "the national log has no checkpoint of this code yet"
        return Verification(verified=False, reason="NOT_YET_CHECKPOINTED", error=message)
    if confirmation.verified is None:
        return Verification(verified=False, reason=confirmation.reason, error=confirmation.error)
    if confirmation.verified.entry.get("code") != code:
        return Verification(verified=False, reason="OTHER_CODE", error="the log's entry is of another code")
    proof = confirmation.verified.proof
    return Verification(
        verified=True,
        log_key=proof.log_key,
        tree_size=proof.checkpoint.size,
        root_hash=proof.checkpoint.root_hash.hex(),
        index=proof.index,
        witnesses=[f"nodes/{name.removeprefix(WITNESS_KEY_PREFIX)}" for name, _ in proof.witnesses],
        witnesses_pending=list(confirmation.witnesses_pending),
    )


def _deregistered_on(record: sync_pb2.RegistrationRecord) -> str:
    days = [
        china_date(entry.time.ToDatetime(tzinfo=UTC)).isoformat()
        for entry in record.history
        if entry.action == "deregister"
    ]
    return days[-1] if days else ""


def code_check(portal: Portal, code: str) -> CodeCheck:
    """A code's registration: its state, whether it is in force, and its confirmation verified against
    the national log here."""
    found = portal.search.by_code(code)
    if found is None:
        raise _code_not_found(code)
    row, ledger = found
    try:
        confirmation = portal.national.confirmation(code)
    except NationalError as error:
        confirmation = Confirmation("", None, error.message, "NATIONAL_UNAVAILABLE")
    deregistered = ""
    if row.state == "DEREGISTERED":
        deregistered = _deregistered_on(sync_pb2.RegistrationRecord.FromString(ledger.record))
    return CodeCheck(
        code=code,
        id=row.uid,
        data_name=row.data_name,
        subject_name=row.subject_name,
        state=row.state,
        state_label=STATES.get(row.state, row.state),
        valid=row.state == "ACTIVE",
        valid_from=_day(row.valid_from),
        valid_until=_day(row.valid_until),
        deregistered_on=deregistered,
        confirmation=_verification(confirmation, code),
        confirmation_url=f"/check/{code}/confirmation.tlog"
        if confirmation is not None and confirmation.tlog_proof
        else "",
    )


def confirmation_file(portal: Portal, code: str) -> str:
    """The confirmation file (C2SP tlog-proof) of a code, as the national log serves it."""
    if portal.search.by_code(code) is None:
        raise _code_not_found(code)
    try:
        confirmation = portal.national.confirmation(code)
    except NationalError as error:
        raise from_national(error) from None
    if confirmation is None or not confirmation.tlog_proof:
        raise PortalError(409, "NOT_YET_CHECKPOINTED", "the national log has no checkpoint of this code yet")
    return confirmation.tlog_proof

"""The portal's data demands: read from the national node (DemandService, public) and posted to it with
the poster's own bearer token; shaped for the API and the pages (:mod:`national_node.portal.schemas`)."""

from __future__ import annotations

from datetime import UTC

from google.protobuf import timestamp_pb2

from common.gen.registry.v1 import demand_pb2 as d
from common.gen.registry.v1 import demand_service_pb2 as ds
from common.registration.content import to_date
from national_node.portal.errors import PortalError, from_national
from national_node.portal.national import NationalError
from national_node.portal.schemas import (
    ANSWER_KINDS,
    DEMAND_ACTIONS,
    DEMAND_STATES,
    DemandAnswerOut,
    DemandEventOut,
    DemandIn,
    DemandMatchOut,
    DemandsResponse,
    DemandSummary,
    DemandView,
)
from national_node.portal.service import UID, Portal
from national_node.public import date_text, region_label

__all__ = ["PAGE", "demand", "demands", "post_demand"]

#: Demands on a page of the portal.
PAGE = 20
#: The national node's field names, as the portal's callers know them.
_FIELDS = {
    "demand.title": "title",
    "demand.purpose": "purpose",
    "demand.region": "region",
    "demand.frequency": "frequency",
    "demand.deadline": "deadline",
    "demand.period_start": "period_start",
    "demand.period_end": "period_end",
    "demand.organisation.uscc": "organisation_uscc",
    "demand.organisation.name": "organisation_name",
    "request_id": "request_id",
    "query": "q",
    "organisation_uscc": "organisation",
}


def _time(value: timestamp_pb2.Timestamp) -> str:
    return value.ToDatetime(tzinfo=UTC).isoformat().replace("+00:00", "Z") if value.seconds else ""


def _summary(demand: d.Demand) -> DemandSummary:
    state = d.Demand.State.Name(demand.state)
    return DemandSummary(
        id=demand.name.removeprefix("demands/"),
        title=demand.title,
        organisation_name=demand.organisation.name,
        organisation_uscc=demand.organisation.uscc,
        region=demand.region,
        region_label=region_label(demand.region) if demand.region else "全国",
        state=state,
        state_label=DEMAND_STATES.get(state, state),
        deadline=date_text(demand.deadline),
        posted=_time(demand.create_time),
    )


def _national(error: NationalError) -> PortalError:
    return from_national(error, _FIELDS)


def demands(
    portal: Portal,
    *,
    q: str = "",
    region: str = "",
    state: str = "",
    organisation: str = "",
    page_size: int = PAGE,
    page_token: str = "",
) -> DemandsResponse:
    """A page of demands, newest first."""
    request = ds.ListDemandsRequest(
        page_size=page_size,
        page_token=page_token,
        query=q,
        region=region,
        state=d.Demand.State.Value(state) if state else 0,  # type: ignore[arg-type]
        organisation_uscc=organisation,
    )
    try:
        page = portal.national.list_demands(request)
    except NationalError as error:
        raise _national(error) from None
    return DemandsResponse(demands=[_summary(x) for x in page.demands], next_page_token=page.next_page_token)


def demand(portal: Portal, demand_id: str) -> DemandView:
    """A demand with its matches (linked to their registrations' pages), answers and history."""
    if not UID.fullmatch(demand_id):
        raise PortalError(404, "DEMAND_NOT_FOUND", f"there is no demand {demand_id}")
    try:
        found = portal.national.get_demand(f"demands/{demand_id}")
    except NationalError as error:
        raise _national(error) from None
    return _view(portal, found)


def _view(portal: Portal, found: d.Demand) -> DemandView:
    matches = []
    for m in found.matches:
        held = portal.search.by_code(m.code) if m.code else None
        matches.append(
            DemandMatchOut(
                code=m.code,
                registration_id=held[0].uid if held else "",
                data_name=m.data_name,
                subject_name=m.subject_name,
                complete=m.complete,
            )
        )
    answers = [
        DemandAnswerOut(
            kind=d.DemandAnswer.Kind.Name(a.kind),
            kind_label=ANSWER_KINDS.get(d.DemandAnswer.Kind.Name(a.kind), ""),
            subject_name=a.subject_name,
            code=a.code,
            register_by=date_text(a.register_by),
            note=a.reason,
            time=_time(a.answer_time),
        )
        for a in found.answers
    ]
    history = [
        DemandEventOut(
            action=e.action,
            action_label=DEMAND_ACTIONS.get(e.action, e.action),
            party=d.DemandEvent.Party.Name(e.party),
            time=_time(e.time),
            note=e.note,
        )
        for e in found.history
    ]
    return DemandView(
        **_summary(found).model_dump(),
        purpose=found.purpose,
        fields=list(found.fields),
        period_start=date_text(found.period_start),
        period_end=date_text(found.period_end),
        frequency=found.frequency,
        matches=matches,
        answers=answers,
        history=history,
    )


def post_demand(portal: Portal, body: DemandIn, bearer: str) -> DemandView:
    """Post a demand with the caller's bearer token: the national node checks who it is and that its
    token names the organisation."""
    demand = d.Demand(
        title=body.title,
        purpose=body.purpose,
        region=body.region,
        fields=body.fields,
        frequency=body.frequency,
        organisation=d.DemandOrganisation(uscc=body.organisation_uscc, name=body.organisation_name),
    )
    for field in ("period_start", "period_end", "deadline"):
        day = getattr(body, field)
        if day is not None:
            getattr(demand, field).CopyFrom(to_date(day))
    try:
        posted = portal.national.create_demand(
            ds.CreateDemandRequest(demand=demand, request_id=body.request_id), bearer
        )
    except NationalError as error:
        raise _national(error) from None
    return _view(portal, posted)

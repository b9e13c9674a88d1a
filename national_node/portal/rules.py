"""业务规则: the business rules each node applies, in one public place (``/rules``, ``/api/v1/rules``).

Every node publishes its rules itself (RegistrationService.GetBusinessRules, public); the portal asks the
national node and each province that runs its own node (at the address the directory gives) and shows
them side by side: time limits, the provincial variants each applies, its working-day calendar.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response
from pydantic import BaseModel, Field

from common.gen.registry.v1 import registration_service_pb2 as rs
from national_node.portal.deps import PortalDep
from national_node.portal.errors import PortalError, responses
from national_node.portal.national import NationalError, NodeRules
from national_node.portal.pages import PagesDep

__all__ = ["router"]

router = APIRouter()


class Variant(BaseModel):
    id: str = Field(description="The variant, e.g. hainan-full-registration.")
    description: str = Field(description="What it asks.")
    applied: bool = Field(description="Whether the node applies it.")


class CalendarYear(BaseModel):
    year: int
    source: str = Field(description="official (the State Council's schedule) or operator (the node's file).")


class Rules(BaseModel):
    node: str = Field(description="nodes/{region}")
    display_name: str = Field(default="", description="The region's name.")
    reachable: bool = Field(description="Whether the node answered; when not, only `node` and `error`.")
    error: str = Field(default="", description="Why the node's rules are not shown.")
    time_limits: dict[str, int] = Field(
        default_factory=dict, description="Working days per step; 0: the node applies no such limit."
    )
    variants: list[Variant] = Field(default_factory=list)
    calendar_years: list[CalendarYear] = Field(default_factory=list)
    calendar_file: str = Field(default="", description="The node's working-day schedule file, if any.")
    calendar_file_sha256: str = Field(default="")
    separation_of_duties: bool = False


class RulesList(BaseModel):
    nodes: list[Rules]


def _rules(found: NodeRules) -> Rules:
    rules = found.rules
    if rules is None:
        return Rules(node=found.node, reachable=False, error=found.error)
    limits = rules.time_limits
    return Rules(
        node=found.node,
        display_name=rules.display_name,
        reachable=True,
        time_limits={
            field.name: getattr(limits, field.name) for field in rs.ProcedureTimeLimits.DESCRIPTOR.fields
        },
        variants=[Variant(id=v.id, description=v.description, applied=v.applied) for v in rules.variants],
        calendar_years=[CalendarYear(year=y.year, source=y.source) for y in rules.calendar_years],
        calendar_file=rules.calendar_file,
        calendar_file_sha256=rules.calendar_file_sha256,
        separation_of_duties=rules.separation_of_duties,
    )


def _all(portal: PortalDep) -> list[Rules]:
    try:
        return [_rules(found) for found in portal.national.business_rules()]
    except NationalError as error:
        raise PortalError(503, "NATIONAL_UNAVAILABLE", error.message) from None


@router.get("/rules", include_in_schema=False)
def rules_page(page: PagesDep, portal: PortalDep) -> Response:
    """业务规则: each node's time limits, variants and calendar."""
    return page("rules.html", nodes=_all(portal))


@router.get(
    "/api/v1/rules",
    response_model=RulesList,
    responses=responses(429, 503),
    summary="The business rules of every node",
    tags=["rules"],
)
def rules_api(portal: PortalDep) -> RulesList:
    return RulesList(nodes=_all(portal))

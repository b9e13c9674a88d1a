"""The shapes of the portal's API (``/api/v1``), which the pages render too.

Every constraint the server enforces on a request is declared here or on the route's parameters, so
the OpenAPI description states it and FastAPI enforces exactly what it states. A registration's public
model is made from :data:`national_node.public.PUBLIC_FIELDS`, the one list of public fields.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, create_model

from common import codes, regions
from common.validation import REQUEST_ID
from national_node import public

__all__ = [
    "CODE_PATTERN",
    "MAX_QUERY",
    "PROVINCE_PATTERN",
    "Announcement",
    "AnnouncementsResponse",
    "CodeCheck",
    "DemandIn",
    "DemandSummary",
    "DemandView",
    "DemandsResponse",
    "EvidenceIn",
    "FacetValue",
    "ObjectionFiled",
    "ObjectionIn",
    "PublicRegistration",
    "RegistrationSummary",
    "SearchResponse",
    "Verification",
    "public_registration_model",
]

#: The longest query, in characters.
MAX_QUERY = 100
#: A registration code as the portal reads it: an object type (1-3), the issuing node's region, two
#: digits of the year, nine characters of serial and the check character, in the code alphabet and in
#: either case (people type codes; the answer gives the code's one spelling, in upper case). What a
#: pattern cannot say: the serial is not zero, and the check character matches (GB 32100, mod 31).
_LETTERS = "".join(c for c in codes.ALPHABET if c.isalpha())
_CODE_CHARACTER = f"[0-9{_LETTERS}{_LETTERS.lower()}]"
CODE_PATTERN = (
    "^[123](" + "|".join(r.code for r in regions.all_regions()) + f")[0-9]{{2}}{_CODE_CHARACTER}{{10}}$"
)
#: A client's request id (the registry's rule, common.validation.REQUEST_ID).
REQUEST_ID_PATTERN = f"^{REQUEST_ID.pattern}$"
#: A province-level region code (100000: central bodies), or empty (no filter).
REGION_PATTERN = "^(|" + "|".join(r.code for r in regions.all_regions()) + ")$"
#: A province-level region code (not 100000), or empty (no filter).
PROVINCE_PATTERN = "^(|" + "|".join(r.code for r in regions.provinces()) + ")$"
#: The shape of a unified social credit code (its check character is checked too), or empty.
USCC_PATTERN = "^(|[0-9A-HJ-NP-RTUWXY]{18})$"
# Spelled with explicit classes, not \s and \S, whose meaning differs between the engines that read it
# (Python's re, the Rust regex of pydantic-core, JSON Schema's ECMA-262 in clients): U+0085 is space to
# Python and Rust, not to ECMA-262; U+FEFF is space to ECMA-262 only.
#: Every character any of the three takes as white space (what str.strip() removes, and U+FEFF).
_SPACE = r"\t\n\v\f\r \x1c-\x1f\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
#: Free text that is not blank; a URI as the registry takes it (common.registration.content).
_TEXT = f"[^{_SPACE}]"
_URI = r"^[\t\n\v\f\r ]*[a-zA-Z][a-zA-Z0-9+.-]*:[^\x00-\x20\x7f-\x9f]+[\t\n\v\f\r ]*$"


class FacetValue(BaseModel):
    value: str
    label: str
    count: int


class RegistrationSummary(BaseModel):
    id: str
    code: str
    data_name: str
    subject_name: str
    object_type: str
    object_type_label: str
    state: str
    state_label: str
    region: str
    region_label: str
    update_frequency: str
    summary: str
    valid_until: str
    announcement_end: str
    announcement_end_provisional: bool = Field(
        default=False,
        description="The node that manages the registration counted the announcement's end on weekends"
        " alone (no published working-day schedule for its year): it may not be the day the year's"
        " schedule gives.",
    )
    sharing_attribute: str = Field(
        default="",
        description="The sharing attribute (an AccessTerms.SharingAttribute name); empty: not stated.",
    )
    sharing_attribute_label: str = Field(default="", description="共享属性, in Chinese (未说明: not stated).")
    open_attribute: str = Field(
        default="", description="The open attribute (an AccessTerms.OpenAttribute name); empty: not stated."
    )
    open_attribute_label: str = Field(default="", description="开放属性, in Chinese (未说明: not stated).")
    channel_kinds: list[str] = Field(
        default=[], description="The kinds of access channel offered (AccessChannel.Kind names)."
    )


class SearchResponse(BaseModel):
    registrations: list[RegistrationSummary]
    total_size: int
    total_size_is_estimate: bool = Field(
        default=False,
        description="True when more than 1,000 match: the total and the counts are then estimates.",
    )
    facets: dict[str, list[FacetValue]]
    next_page_token: str = Field(
        description="Opaque; pass as page_token for the next page. Empty: last page."
    )
    partial_match: bool = Field(
        default=False,
        description="No registration holds every word of q: these hold some of them (the rarest first;"
        " omitted_words says which were left out).",
    )
    omitted_words: list[str] = Field(
        default_factory=list, description="The words of q a partial match left out (empty: none)."
    )
    suggestion: str = Field(
        default="",
        description="Did you mean: q with its mistyped words corrected from the words of registered"
        " names, offered when no registration holds every word of q and only when the correction finds"
        " registrations. Search it as q. Empty: none.",
    )
    synonyms: list[str] = Field(
        default_factory=list,
        description="Other words the words of q also matched, from the synonym dictionary (医保:"
        " 医疗保障 ...).",
    )


def public_registration_model() -> type[BaseModel]:
    """The API's model of a registration: its id, the public fields (each with its label as the
    description), and whether it is under announcement now."""
    fields: dict[str, Any] = {
        "id": (str, Field(description="The registration's id (a UUID).")),
        **{f.key: (f.type, Field(description=f.label)) for f in public.PUBLIC_FIELDS},
        "under_announcement": (bool, Field(description="Under announcement: objections are taken.")),
        "announcement_end": (str, Field(description="The announcement's last day (empty: none).")),
        "announcement_end_provisional": (
            bool,
            Field(default=False, description="The announcement's end was counted on weekends alone."),
        ),
    }
    return create_model(
        "PublicRegistration", __doc__="A registration's public fields and its public history.", **fields
    )


#: A registration's public fields, as the API answers them (made from the one list of public fields).
PublicRegistration = public_registration_model()


class Announcement(BaseModel):
    id: str
    code: str
    data_name: str
    subject_name: str
    region_label: str
    announcement_end: str
    announcement_end_provisional: bool = False


class AnnouncementsResponse(BaseModel):
    announcements: list[Announcement]
    next_page_token: str


class EvidenceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1, max_length=200, pattern=_TEXT)
    uri: str = Field(max_length=2000, pattern=_URI, description="A URI such as https://host/path.")
    sha256: str = Field(default="", pattern="^([0-9a-f]{64})?$", description="Lower-case hex, if known.")


class ObjectionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=50, pattern=_TEXT, description="Who objects.")
    contact: str = Field(
        min_length=1, max_length=100, pattern=_TEXT, description="A telephone number or e-mail address."
    )
    reason: str = Field(min_length=1, max_length=2000, pattern=_TEXT)
    evidence: list[EvidenceIn] = Field(default=[], max_length=5)
    request_id: str = Field(
        pattern=REQUEST_ID_PATTERN,
        description="Chosen by the client (1-64 letters, digits, '-', '_', '.' or ':'; a UUID fits);"
        " a retry with the same id files once.",
    )


class ObjectionFiled(BaseModel):
    id: str
    managing_node: str
    managing_region_label: str
    file_time: str = Field(description="When the national node took it (RFC 3339, UTC).")
    announcement_end: str
    announcement_end_provisional: bool = False
    request_id: str


class Verification(BaseModel):
    verified: bool
    reason: str = Field(
        default="",
        description="Why it is not verified: NOT_YET_CHECKPOINTED, NO_LOG_KEY, NOT_VERIFIED, OTHER_CODE"
        " or NATIONAL_UNAVAILABLE.",
    )
    error: str = ""
    log_key: str = ""
    tree_size: int = 0
    root_hash: str = ""
    index: int = 0
    witnesses: list[str] = Field(
        default=[], description="The witnesses (nodes/{region}) whose cosignatures of it verified."
    )
    witnesses_pending: list[str] = Field(
        default=[], description="The witnesses whose cosignatures of the checkpoint are still pending."
    )


class CodeCheck(BaseModel):
    code: str
    id: str
    data_name: str
    subject_name: str
    state: str
    state_label: str
    valid: bool = Field(description="The registration is in force (ACTIVE): the code may be relied on.")
    valid_from: str
    valid_until: str
    deregistered_on: str = Field(default="", description="The day it was deregistered, if it was.")
    confirmation: Verification
    confirmation_url: str


# -- data demands -----------------------------------------------------------------------------------

#: What each state of a demand is called on the portal.
DEMAND_STATES = {
    "OPEN": "待响应",
    "ANSWERED": "已响应",
    "MATCHED": "已匹配",
    "CLOSED": "已关闭",
    "WITHDRAWN": "已撤回",
}
#: What each kind of a supplier's answer is called.
ANSWER_KINDS = {"CAN_SUPPLY": "可以提供", "COULD_REGISTER": "可登记后提供", "CANNOT": "无法提供"}
#: What each step of a demand's history is called.
DEMAND_ACTIONS = {
    "POSTED": "发布需求",
    "MATCHED": "平台匹配登记",
    "ANSWERED": "供方响应",
    "CLOSED": "需求方关闭",
    "WITHDRAWN": "需求方撤回",
    "EXPIRED": "到期关闭",
}


class DemandSummary(BaseModel):
    id: str
    title: str
    organisation_name: str
    organisation_uscc: str
    region: str = Field(description="A province-level region (GB/T 2260), or empty for the whole country.")
    region_label: str
    state: str = Field(description="OPEN, ANSWERED, MATCHED, CLOSED or WITHDRAWN.")
    state_label: str
    deadline: str
    posted: str = Field(description="When it was posted (RFC 3339, UTC).")


class DemandsResponse(BaseModel):
    demands: list[DemandSummary]
    next_page_token: str


class DemandMatchOut(BaseModel):
    code: str
    registration_id: str = Field(description="The registration's id on this portal (empty if not found).")
    data_name: str
    subject_name: str
    complete: bool = Field(description="It holds every word of the title (false: some of them).")


class DemandAnswerOut(BaseModel):
    kind: str = Field(description="CAN_SUPPLY, COULD_REGISTER or CANNOT.")
    kind_label: str
    subject_name: str
    code: str
    register_by: str
    note: str
    time: str


class DemandEventOut(BaseModel):
    action: str
    action_label: str
    party: str = Field(description="DEMANDER, SUPPLIER or NATIONAL.")
    time: str
    note: str


class DemandView(DemandSummary):
    purpose: str
    fields: list[str]
    period_start: str
    period_end: str
    frequency: str
    matches: list[DemandMatchOut]
    answers: list[DemandAnswerOut]
    history: list[DemandEventOut]


class DemandIn(BaseModel):
    """A demand to post, as a verified organisation (a bearer token naming its USCC, role data_user)."""

    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1, max_length=200, pattern=_TEXT, description="What data is needed.")
    purpose: str = Field(min_length=1, max_length=2000, pattern=_TEXT, description="Purpose and scenario.")
    region: str = Field(
        default="", pattern=PROVINCE_PATTERN, description="A province-level region, or empty."
    )
    fields: list[Annotated[str, Field(min_length=1, max_length=100, pattern=_TEXT)]] = Field(
        default=[], max_length=50, description="The data items wanted."
    )
    period_start: date | None = Field(default=None, description="The first day the data should cover.")
    period_end: date | None = Field(default=None, description="The last day the data should cover.")
    frequency: str = Field(default="", max_length=50, description="How often the data should be updated.")
    deadline: date = Field(description="The last day answers are needed by (from today to three years on).")
    organisation_uscc: str = Field(pattern="^[0-9A-HJ-NP-RTUWXY]{18}$")
    organisation_name: str = Field(min_length=1, max_length=200, pattern=_TEXT)
    request_id: str = Field(
        pattern=REQUEST_ID_PATTERN,
        description="Chosen by the client (1-64 letters, digits, '-', '_', '.' or ':'; a UUID fits);"
        " a retry with the same id posts once.",
    )

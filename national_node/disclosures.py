"""Authorised-operation disclosure (授权运营信息披露; ``registry.v1.DisclosureService``).

Under the NDA's notice of 2026-02-10, every year by 31 March, for the year before, an implementing body
(实施机构) discloses its own information, the authorisations it granted (which registered resources, to
whom, for how long) and the cap on operation-service fees; an operating entity (运营机构) discloses its
own information, the resources it is authorised to use, and its products and services with their fees.

A disclosure is filed by people of the organisation in the role of its kind (``implementing_body``,
``operating_entity``: a verified token naming its USCC). Each filing is a new version of
``disclosures/{year}/{role}/{uscc}``; every version is kept, entered in the national log (a
``disclosure`` entry naming the SHA-256 of its canonical content) in the same transaction, and public.
Every code a disclosure names must be in the national ledger, and an operating entity's products must
be its own. After 31 March the coordinators list who has not disclosed: the operating entities of the
products and services whose validity reached into the year, and the implementing bodies that disclosed
the year before.
"""

from __future__ import annotations

import hashlib
import logging
import re
from datetime import UTC, date, datetime
from typing import cast

from google.protobuf import json_format
from sqlalchemy import func, or_
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from common import uscc as uscc_codes
from common.clock import CHINA, Clock
from common.db import Database
from common.errors import AlreadyExists, FieldViolation, InvalidArgument, NotFound, PermissionDenied
from common.gen.registry.v1 import disclosure_pb2 as ds
from common.gen.registry.v1 import disclosure_service_pb2 as dss
from common.paging import PageTokens
from common.registration.access import validate_fee
from common.registration.content import NAME, TEXT, from_date, to_date
from common.rpc.call import Call
from common.security.scope import require_own_subject
from common.sync.sequences import take_number
from common.transparency.entry import DISCLOSURE, ENTRY_VERSION, canonical
from common.validation import Checker
from national_node.directory import OWN_NODE
from national_node.models import (
    DisclosureCodeRow,
    DisclosureRequestRow,
    DisclosureRow,
    DownwardRow,
    LedgerRow,
    NodeRow,
    SearchRow,
)
from national_node.tlog import Appender, Pending
from national_node.tlog.entries import entry_time, set_log_index

__all__ = ["DisclosureDesk", "deadline_of", "named_codes"]

logger = logging.getLogger(__name__)

_R = ds.Disclosure.Role
#: The role each kind of discloser holds, and the name's segment.
ROLES = {"IMPLEMENTING_BODY": "implementing_body", "OPERATING_ENTITY": "operating_entity"}
SEGMENTS = {"IMPLEMENTING_BODY": "implementing-body", "OPERATING_ENTITY": "operating-entity"}
_NAME_PATTERN = re.compile(r"^disclosures/(20[0-9]{2})/(implementing-body|operating-entity)/([0-9A-Z]{18})$")
MAX_ITEMS = 100
FIRST_YEAR = 2025


def deadline_of(year: int) -> date:
    """The last day to disclose for ``year``: 31 March of the year after."""
    return date(year + 1, 3, 31)


def _name(year: int, role: str, uscc: str) -> str:
    return f"disclosures/{year}/{SEGMENTS[role]}/{uscc}"


class DisclosureDesk:
    """The national node's disclosures: one per process, safe to share between threads."""

    def __init__(self, db: Database, clock: Clock, tokens: PageTokens, appender: Appender | None) -> None:
        self.db, self.clock, self.tokens, self.appender = db, clock, tokens, appender

    # -- filing -------------------------------------------------------------------------------------

    def file(self, request: dss.FileDisclosureRequest, call: Call) -> ds.Disclosure:
        given = self._checked(request.disclosure)
        check = Checker()
        check.request_id("request_id", request.request_id)
        check.done()
        role = _R.Name(given.role)
        require_own_subject(call.principal, call.grant, given.party.uscc, field="disclosure.party.uscc")
        if call.principal.kind == "person" and ROLES[role] not in call.principal.roles:
            raise PermissionDenied(
                "NOT_YOUR_SUBJECT",
                f"{call.principal.subject} does not hold the role {ROLES[role]}: it files no {role}"
                " disclosure",
                metadata={"field": "disclosure.role"},
            )
        digest = hashlib.sha256(request.SerializeToString(deterministic=True)).hexdigest()
        replay = self._replayed(request.request_id, digest)
        if replay is not None:
            return self._view(*replay)
        name = _name(given.year, role, given.party.uscc)
        content = json_format.MessageToDict(given, preserving_proto_field_name=True)
        content_sha256 = hashlib.sha256(canonical(content)).hexdigest()
        now = self.clock.now()
        try:
            with self.db.transaction() as session:
                self._check_codes(session, given, role)
                previous = session.exec(
                    select(DisclosureRow).where(DisclosureRow.name == name).with_for_update()
                ).all()
                version = max((row.version for row in previous), default=0) + 1
                first_at = min((row.filed_at for row in previous), default=now)
                for row in previous:
                    if row.latest:
                        row.latest = False
                        session.add(row)
                row = DisclosureRow(
                    name=name,
                    version=version,
                    year=given.year,
                    role=role,
                    uscc=given.party.uscc,
                    party_name=given.party.name,
                    region=_region(given.party.uscc),
                    latest=True,
                    late=first_at.astimezone(CHINA).date() > deadline_of(given.year),
                    content_sha256=content_sha256,
                    body=given.SerializeToString(deterministic=True),
                    filed_at=now,
                )
                session.add(row)
                session.exec(  # the codes the latest version names
                    DisclosureCodeRow.__table__.delete().where(DisclosureCodeRow.name == name)  # type: ignore[attr-defined]
                )
                session.add_all(
                    DisclosureCodeRow(name=name, code=code) for code in sorted(named_codes(given))
                )
                session.add(
                    DisclosureRequestRow(
                        request_id=request.request_id, digest=digest, name=name, version=version
                    )
                )
                if role == "OPERATING_ENTITY":
                    self._tell_region(session, row, given, version, now)
                if self.appender is not None:
                    entry = {
                        "v": ENTRY_VERSION,
                        "kind": DISCLOSURE,
                        "time": entry_time(now),
                        "disclosure": name,
                        "version": version,
                        "year": given.year,
                        "role": role,
                        "uscc": given.party.uscc,
                        "content_sha256": content_sha256,
                    }
                    self.appender.add(session, Pending(canonical(entry), set_log_index(row)))
        except IntegrityError:
            replay = self._replayed(request.request_id, digest)
            if replay is None:
                raise
            return self._view(*replay)
        logger.info("disclosure %s version %d filed", name, version)
        return self._view(name, version)

    @staticmethod
    def _tell_region(
        session: Session, row: DisclosureRow, given: ds.Disclosure, version: int, now: datetime
    ) -> None:
        """An operating entity's disclosure goes down to the node of its region, when that region runs
        its own node: a node that requires every product made from authorised data registered (Hainan)
        lists the products it names without a code as due."""
        region = session.get(NodeRow, row.region)
        if region is None or region.mode != OWN_NODE:
            return
        sent = ds.Disclosure()
        sent.CopyFrom(given)
        sent.name, sent.version, sent.region = row.name, version, row.region
        sent.file_time.FromDatetime(now)
        session.add(
            DownwardRow(
                node=row.region,
                sequence=take_number(session, f"down:{row.region}"),
                kind="DISCLOSURE",
                uid="",
                record=b"",
                notice=sent.SerializeToString(deterministic=True),
                created_at=now,
            )
        )

    def _checked(self, given: ds.Disclosure) -> ds.Disclosure:
        """The disclosure as filed, field by field (output-only fields ignored)."""
        check = Checker()
        out = ds.Disclosure(year=given.year, role=given.role)
        this_year = self.clock.today().year
        if not FIRST_YEAR <= given.year < this_year:
            check.fail(
                "disclosure.year",
                "FIELD_OUT_OF_RANGE",
                f"must be a past year, {FIRST_YEAR} to {this_year - 1}",
            )
        role = check.enum_name("disclosure.role", given.role, _R)
        found = check.uscc("disclosure.party.uscc", given.party.uscc)
        if found is not None:
            out.party.uscc = found.value
        out.party.name = check.text("disclosure.party.name", given.party.name, max_length=NAME)
        out.profile = check.text("disclosure.profile", given.profile, max_length=TEXT)
        implementing = role == "IMPLEMENTING_BODY"
        if implementing:
            out.fee_cap = check.text("disclosure.fee_cap", given.fee_cap, max_length=TEXT)
        elif given.fee_cap:
            check.fail(
                "disclosure.fee_cap", "FIELD_OUT_OF_RANGE", "is disclosed by an implementing body only"
            )
        for field, items, allowed in (
            ("authorisations", given.authorisations, implementing),
            ("resources", given.resources, role == "OPERATING_ENTITY"),
            ("products", given.products, role == "OPERATING_ENTITY"),
        ):
            if items and not allowed:
                check.fail(
                    f"disclosure.{field}", "FIELD_OUT_OF_RANGE", f"is not disclosed by {role or 'this role'}"
                )
            if len(items) > MAX_ITEMS:
                check.fail(
                    f"disclosure.{field}",
                    "FIELD_TOO_LONG",
                    f"holds {len(items)} items; the limit is {MAX_ITEMS}",
                )
        if role == "OPERATING_ENTITY" or not role:
            for i, code in enumerate(given.resources[:MAX_ITEMS]):
                out.resources.append(self._code(check, f"disclosure.resources[{i}]", code))
            for i, product in enumerate(given.products[:MAX_ITEMS]):
                if product.code or not product.name.strip():
                    product_item = out.products.add(
                        code=self._code(check, f"disclosure.products[{i}].code", product.code)
                    )
                    if product.name.strip():
                        check.fail(
                            f"disclosure.products[{i}].name",
                            "FIELD_MALFORMED",
                            "names a product not registered yet: leave it empty when the code is given",
                        )
                else:  # not registered yet (Hainan asks every one registered)
                    product_item = out.products.add(
                        name=check.text(f"disclosure.products[{i}].name", product.name, max_length=200)
                    )
                if len(product.fees) > 50:
                    check.fail(f"disclosure.products[{i}].fees", "FIELD_TOO_LONG", "holds more than 50 items")
                for j, fee in enumerate(product.fees[:50]):
                    validate_fee(check, f"disclosure.products[{i}].fees[{j}]", fee)
                    product_item.fees.add(
                        name=fee.name.strip(), price_cny=fee.price_cny.strip(), unit=fee.unit.strip()
                    )
        if implementing:
            for i, grant in enumerate(given.authorisations[:MAX_ITEMS]):
                field = f"disclosure.authorisations[{i}]"
                item = out.authorisations.add()
                if not 1 <= len(grant.codes) <= MAX_ITEMS:
                    check.fail(f"{field}.codes", "FIELD_REQUIRED", f"names 1 to {MAX_ITEMS} codes")
                for j, code in enumerate(grant.codes[:MAX_ITEMS]):
                    item.codes.append(self._code(check, f"{field}.codes[{j}]", code))
                grantee = check.uscc(f"{field}.grantee.uscc", grant.grantee.uscc)
                item.grantee.uscc = grantee.value if grantee is not None else ""
                item.grantee.name = check.text(f"{field}.grantee.name", grant.grantee.name, max_length=NAME)
                days = {}
                for end in ("start", "end"):
                    day = from_date(getattr(grant, end)) if grant.HasField(end) else None
                    if day is None:
                        check.fail(f"{field}.{end}", "FIELD_REQUIRED", "is required: a day of the calendar")
                    else:
                        getattr(item, end).CopyFrom(to_date(day))
                        days[end] = day
                if len(days) == 2 and days["end"] < days["start"]:
                    check.fail(f"{field}.end", "FIELD_OUT_OF_RANGE", "is before start")
        check.done()
        return out

    @staticmethod
    def _code(check: Checker, field: str, code: str) -> str:
        code = code.strip()
        if not re.fullmatch(r"[0-9A-HJ-NPQRTUWXY]{19}", code):
            check.fail(field, "FIELD_MALFORMED", "must be a unified registration code (19 characters)")
        return code

    @staticmethod
    def _check_codes(session: Session, given: ds.Disclosure, role: str) -> None:
        codes = sorted(named_codes(given))
        rows = (
            {
                row.code: row
                for row in session.exec(select(LedgerRow).where(col(LedgerRow.code).in_(codes))).all()
                if row.code
            }
            if codes
            else {}
        )
        unknown = [code for code in codes if code not in rows]
        if unknown:
            message = f"the national ledger holds no registration {', '.join(unknown[:5])}"
            raise InvalidArgument(
                "FIELD_OUT_OF_RANGE",
                message,
                metadata={"field": "disclosure", "codes": ",".join(unknown[:20])},
                violations=[FieldViolation("disclosure", message, "FIELD_OUT_OF_RANGE")],
            )
        if role == "OPERATING_ENTITY":
            products = {p.code for p in given.products if p.code}
            owners = (
                dict(
                    session.exec(
                        select(SearchRow.code, SearchRow.subject_uscc).where(
                            col(SearchRow.code).in_(sorted(products))
                        )
                    ).all()
                )
                if products
                else {}
            )
            foreign = sorted(code for code in products if owners.get(code) != given.party.uscc)
            if foreign:
                raise PermissionDenied(
                    "NOT_YOUR_SUBJECT",
                    f"{', '.join(foreign[:5])}: not a product or service of {given.party.uscc}",
                    metadata={"field": "disclosure.products"},
                )

    def _replayed(self, request_id: str, digest: str) -> tuple[str, int] | None:
        with self.db.transaction(write=False) as session:
            earlier = session.get(DisclosureRequestRow, request_id)
        if earlier is None:
            return None
        if earlier.digest != digest:
            raise AlreadyExists(
                "REQUEST_ID_REUSED",
                f"request id {request_id} was used for another filing",
                metadata={"field": "request_id"},
            )
        return earlier.name, earlier.version

    # -- reading ------------------------------------------------------------------------------------

    def get(self, request: dss.GetDisclosureRequest) -> ds.Disclosure:
        check = Checker()
        if len(request.name) > 80 or not _NAME_PATTERN.fullmatch(request.name):
            check.fail(
                "name",
                "FIELD_MALFORMED",
                "must be disclosures/{year}/{implementing-body|operating-entity}/{uscc}",
            )
        if request.version < 0:
            check.fail("version", "FIELD_OUT_OF_RANGE", "must be 0 (the latest) or a version")
        check.done()
        return self._view(request.name, request.version)

    def _view(self, name: str, version: int = 0) -> ds.Disclosure:
        with self.db.transaction(write=False) as session:
            statement = select(DisclosureRow).where(DisclosureRow.name == name)
            statement = statement.where(
                DisclosureRow.version == version if version else col(DisclosureRow.latest).is_(True)
            )
            row = session.exec(statement).first()
        if row is None:
            raise NotFound(
                "DISCLOSURE_NOT_FOUND",
                f"there is no disclosure {name}" + (f" version {version}" if version else ""),
                metadata={"name": name},
            )
        return _message(row)

    def list_disclosures(self, request: dss.ListDisclosuresRequest) -> dss.ListDisclosuresResponse:
        check = Checker()
        size = check.page_size("page_size", request.page_size, default=20, maximum=100)
        if request.year and not FIRST_YEAR <= request.year <= 9999:
            check.fail("year", "FIELD_OUT_OF_RANGE", f"must be from {FIRST_YEAR}")
        region = request.region.strip()
        if region:
            check.region("region", region)
        role = check.enum_name("role", request.role, _R, required=False)
        code = request.code.strip()
        if code:
            self._code(check, "code", code)
        check.done()
        filters = [request.year, region, role or "", code]
        after = self.tokens.decode("ListDisclosures", request.page_token, filters)
        statement = select(DisclosureRow).where(col(DisclosureRow.latest).is_(True))
        if request.year:
            statement = statement.where(DisclosureRow.year == request.year)
        if region:
            statement = statement.where(DisclosureRow.region == region)
        if role:
            statement = statement.where(DisclosureRow.role == role)
        if code:
            statement = statement.where(
                col(DisclosureRow.name).in_(
                    select(DisclosureCodeRow.name).where(DisclosureCodeRow.code == code)
                )
            )
        if after is not None:
            year, last = int(after[0]), str(after[1])
            statement = statement.where(
                or_(
                    col(DisclosureRow.year) < year,
                    (col(DisclosureRow.year) == year) & (col(DisclosureRow.name) > last),
                )
            )
        statement = statement.order_by(col(DisclosureRow.year).desc(), col(DisclosureRow.name)).limit(
            size + 1
        )
        with self.db.transaction(write=False) as session:
            rows = list(session.exec(statement).all())
        more = len(rows) > size
        rows = rows[:size]
        token = self.tokens.encode("ListDisclosures", [rows[-1].year, rows[-1].name], filters) if more else ""
        return dss.ListDisclosuresResponse(disclosures=[_message(r) for r in rows], next_page_token=token)

    def overdue(self, request: dss.ListOverdueDisclosuresRequest) -> dss.ListOverdueDisclosuresResponse:
        check = Checker()
        if not FIRST_YEAR <= request.year <= 9998:  # (its deadline falls in the year after)
            check.fail("year", "FIELD_OUT_OF_RANGE", f"must be a year from {FIRST_YEAR} to 9998")
        region = request.region.strip()
        if region:
            check.region("region", region)
        check.done()
        year = request.year
        if self.clock.today() <= deadline_of(year):
            return dss.ListOverdueDisclosuresResponse(deadline_passed=False)
        start, end = date(year, 1, 1), date(year, 12, 31)
        with self.db.transaction(write=False) as session:
            filed = set(
                session.exec(select(DisclosureRow.name).where(DisclosureRow.year == year).distinct()).all()
            )
            products = session.exec(
                select(SearchRow.subject_uscc, func.max(SearchRow.subject_name), func.min(SearchRow.code))
                .where(
                    SearchRow.object_type == "DATA_PRODUCT_OR_SERVICE",
                    col(SearchRow.code).is_not(None),
                    col(SearchRow.valid_from) <= end,
                    col(SearchRow.valid_until) >= start,
                )
                .group_by(SearchRow.subject_uscc)
            ).all()
            bodies = session.exec(
                select(DisclosureRow.uscc, func.max(DisclosureRow.party_name))
                .where(DisclosureRow.year == year - 1, DisclosureRow.role == "IMPLEMENTING_BODY")
                .group_by(DisclosureRow.uscc)
            ).all()
        overdue: list[dss.OverdueDisclosure] = []
        for role, rows, why in (
            (
                "OPERATING_ENTITY",
                [(u, n, c) for u, n, c in products],
                "its product or service {} was valid in {}",
            ),
            ("IMPLEMENTING_BODY", [(u, n, "") for u, n in bodies], "it disclosed for {}{}"),
        ):
            for uscc, party_name, code in rows:
                name = _name(year, role, uscc)
                where = _region(uscc)
                if name in filed or (region and where != region):
                    continue
                reason = why.format(code, year) if role == "OPERATING_ENTITY" else why.format(year - 1, "")
                overdue.append(
                    dss.OverdueDisclosure(
                        name=name,
                        role=cast("ds.Disclosure.Role", _R.Value(role)),
                        party=ds.DisclosingParty(uscc=uscc, name=party_name or ""),
                        region=where,
                        reason=reason,
                    )
                )
        overdue.sort(key=lambda o: (o.region, o.name))
        return dss.ListOverdueDisclosuresResponse(deadline_passed=True, overdue=overdue)


def named_codes(given: ds.Disclosure) -> set[str]:
    """The registration codes a disclosure names: its authorisations', resources and products."""
    codes = set(given.resources) | {p.code for p in given.products}
    for grant in given.authorisations:
        codes.update(grant.codes)
    return {c for c in codes if c}


def _region(uscc: str) -> str:
    """The province-level region of a (valid) USCC's registration authority."""
    return uscc_codes.parse(uscc).province.code


def _message(row: DisclosureRow) -> ds.Disclosure:
    message = ds.Disclosure.FromString(row.body)
    message.name, message.region, message.version = row.name, row.region, row.version
    message.late, message.content_sha256 = row.late, row.content_sha256
    message.log_index = row.log_index or 0
    message.file_time.FromDatetime(row.filed_at.astimezone(UTC))
    return message

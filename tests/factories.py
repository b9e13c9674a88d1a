"""Valid test data: USCCs in a given region, code requests."""

from __future__ import annotations

import hashlib
import itertools
from datetime import UTC, date, datetime

from google.type import date_pb2
from stdnum.cn import uscc as stdnum_uscc

from common.codes import ALPHABET
from common.gen.registry.v1 import registration_pb2
from common.rpc.call import Call
from common.security.tokens import Principal

_counter = itertools.count(1)


def make_uscc(division: str = "320100", *, department: str = "9", category: str = "1") -> str:
    """A valid USCC (correct GB 32100 check character) for a unit in ``division``."""
    n = next(_counter)
    organization = ""
    for _ in range(8):
        n, rest = divmod(n, 31)
        organization = ALPHABET[rest] + organization
    body = f"{department}{category}{division}{organization}X"
    return body + stdnum_uscc.calc_check_digit(body)


def make_content(
    uscc: str | None = None,
    *,
    data_name: str = "全省道路交通流量数据",
    operation_term: tuple[date, date] | None = None,
    central: bool = False,
) -> registration_pb2.RegistrationContent:
    """A complete, valid set of application materials."""

    def doc(title: str) -> registration_pb2.Document:
        return registration_pb2.Document(
            title=title,
            uri=f"https://docs.example.cn/{title}",
            sha256=hashlib.sha256(title.encode()).hexdigest(),
        )

    content = registration_pb2.RegistrationContent(
        subject=registration_pb2.Subject(
            name="江苏省大数据管理中心", uscc=uscc or make_uscc("320106"), central=central
        ),
        data_name=data_name,
        data_type="结构化数据",
        data_format="CSV",
        storage=registration_pb2.Storage(location="江苏省政务云", method="关系型数据库"),
        update_frequency="每日",
        legal_source="依法履职过程中采集",
        evidence_deposit="已在省数据存证平台存证",
        application_scenarios=["交通规划", "拥堵预警"],
        security_assessment=doc("security-assessment"),
        description=doc("description"),
        commitment=doc("commitment"),
        summary="全省高速公路与国省干线的小时级交通流量统计",
    )
    if operation_term is not None:
        start, end = operation_term
        content.operation_term.start.CopyFrom(
            date_pb2.Date(year=start.year, month=start.month, day=start.day)
        )
        content.operation_term.end.CopyFrom(date_pb2.Date(year=end.year, month=end.month, day=end.day))
    return content


def acting(subject: str, *roles: str) -> Call:
    """A call as the person ``subject`` (already verified), with no limit of scope: what the
    servicers see of a caller when they are driven in-process."""
    principal = Principal(
        subject=subject,
        name=subject,
        roles=frozenset(roles),
        subjects=frozenset(),
        issuer="tests",
        expires=datetime.max.replace(tzinfo=UTC),
    )
    return Call(method="in-process", principal=principal)

"""RFC 8785 canonical JSON (``common.transparency.jcs``) against an RFC 8785 implementation, and the
national log's registration entries, written out directly, against their canonical form."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
import rfc8785
from google.type import date_pb2
from hypothesis import given, settings
from hypothesis import strategies as st

from common.gen.registry.v1 import registration_pb2 as r
from common.gen.registry.v1 import sync_pb2
from common.registration.content import canonical_json
from common.transparency.entry import ENTRY_VERSION, canonical
from common.transparency.jcs import CanonicalError
from common.transparency.jcs import canonical as jcs
from national_node.tlog.entries import entry_time, registration_entry, registration_entry_bytes
from tests.factories import make_content

# Text of every kind: control characters, quotes, backslashes, Chinese, astral planes (no lone
# surrogates, which are no Unicode text).
_text = st.text(st.characters(exclude_categories=("Cs",)), max_size=20)
_keys = st.text(st.characters(max_codepoint=127), max_size=8)
_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-(2**53) + 1, 2**53 - 1), _text),
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(_keys, inner, max_size=4)),
    max_leaves=16,
)


@settings(max_examples=500, deadline=None)
@given(_values)
def test_canonical_json_is_rfc_8785(value: object) -> None:
    assert jcs(value) == rfc8785.dumps(value)


@pytest.mark.parametrize("value", [1.5, 2**53, {"é": 1}, {1: "x"}, "\ud800", [float("nan")], {"a": (1, 2)}])
def test_what_is_not_in_its_value_space_is_refused(value: object) -> None:
    with pytest.raises(CanonicalError):
        jcs(value)


def test_registration_content_canonicalises_as_rfc_8785() -> None:
    from google.protobuf import json_format

    for data_name in ("全省道路交通流量数据", 'quote " backslash \\ tab \t bell \x07', "𝄞 emoji 😀"):
        content = make_content(data_name=data_name)
        as_dict = json_format.MessageToDict(content, preserving_proto_field_name=True)
        assert canonical_json(content).encode() == rfc8785.dumps(as_dict)


def _record(
    data_name: str, subject_name: str, code: str, valid: bool, central: bool
) -> sync_pb2.RegistrationRecord:
    content = make_content(data_name=data_name or "x", central=central)
    content.subject.name = subject_name
    reg = r.Registration(
        name="nodes/320000/registrations/r-0123456789ab",
        uid="0b1c2d3e-aaaa-bbbb-cccc-000000000000",
        code=code,
        state=r.Registration.ACTIVE,
        object_type=r.DATA_PRODUCT_OR_SERVICE,
        version=2,
        managing_node="nodes/320000",
        content=content,
    )
    if valid:
        reg.valid_from.CopyFrom(date_pb2.Date(year=2026, month=10, day=28))
        reg.valid_until.CopyFrom(date_pb2.Date(year=2029, month=10, day=27))
    return sync_pb2.RegistrationRecord(registration=reg, revision=7)


@settings(max_examples=300, deadline=None)
@given(_text, _text, st.sampled_from(["", "132000026000000001D"]), st.booleans(), st.booleans())
def test_a_registration_entry_written_out_is_its_canonical_form(
    data_name: str, subject_name: str, code: str, valid: bool, central: bool
) -> None:
    record = _record(data_name, subject_name, code, valid, central)
    at = datetime(2026, 12, 1, 10, 0, 0, 123456, tzinfo=UTC)
    fields = registration_entry(record, "a" * 64, "b" * 64)
    expected = canonical({"v": ENTRY_VERSION, "kind": "registration", "time": entry_time(at), **fields})
    assert registration_entry_bytes(record, "a" * 64, "b" * 64, at) == expected
    assert expected == rfc8785.dumps(json.loads(expected))

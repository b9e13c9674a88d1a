"""Page tokens resume where the last page ended, only for the request they were issued for, and
cannot be read or forged by callers."""

from __future__ import annotations

import base64
import json
import os
from typing import Any

import pytest

from common.errors import InvalidArgument
from common.paging import PageTokens
from common.validation import Checker

FILTERS = {"issuer": "320000", "state": "ANNOUNCED"}
METHOD = "ListRegistrations"
TOKENS = PageTokens(os.urandom(32))


def encode_token(position: Any, filters: Any = None) -> str:
    return TOKENS.encode(METHOD, position, filters)


def decode_token(token: str, filters: Any = None, *, field: str = "page_token") -> Any:
    return TOKENS.decode(METHOD, token, filters, field=field)


def page_size(requested: int, *, default: int, maximum: int) -> int:
    check = Checker()
    size = check.page_size("page_size", requested, default=default, maximum=maximum)
    check.done()
    return size


def rejection(token: str, filters: object = None) -> InvalidArgument:
    with pytest.raises(InvalidArgument) as caught:
        decode_token(token, filters)
    return caught.value


@pytest.mark.parametrize(
    "position",
    [
        17,
        "132000026PHTXAX732G",
        ["2026-03-01T08:00:00+00:00", 42],
        {"after": "nodes/320000/registrations/r-1", "n": 3},
    ],
)
def test_a_token_resumes_at_its_position(position: object) -> None:
    token = encode_token(position, FILTERS)
    assert decode_token(token, FILTERS) == position


def test_the_same_filters_in_another_order_are_the_same_request() -> None:
    token = encode_token(5, {"issuer": "320000", "state": "ANNOUNCED"})
    assert decode_token(token, {"state": "ANNOUNCED", "issuer": "320000"}) == 5


def test_a_token_is_opaque_url_safe_text() -> None:
    token = encode_token({"after": "nodes/320000/registrations/r-1"}, FILTERS)
    assert token.isascii()
    assert not set(token) & set("+/= ")
    assert "320000" not in token
    raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    assert b"320000" not in raw and b"after" not in raw  # sealed, not merely encoded


def test_a_forged_token_in_the_old_readable_form_is_refused() -> None:
    forged = _b64(json.dumps({"p": ["2026-03-01T08:00:00+00:00", "r-zzzz"], "f": "0" * 16}).encode())
    assert rejection(forged, FILTERS).reason == "PAGE_TOKEN_INVALID"


def test_a_token_of_another_node_is_refused() -> None:
    theirs = PageTokens(os.urandom(32)).encode(METHOD, 17, FILTERS)
    assert rejection(theirs, FILTERS).reason == "PAGE_TOKEN_INVALID"


def test_a_token_of_another_method_is_refused() -> None:
    token = TOKENS.encode("ListHistory", 17, FILTERS)
    assert rejection(token, FILTERS).reason == "PAGE_TOKEN_INVALID"


def test_any_altered_byte_is_refused() -> None:
    token = encode_token(17, FILTERS)
    raw = bytearray(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    for position in range(len(raw)):
        altered = bytearray(raw)
        altered[position] ^= 0x01
        assert rejection(_b64(bytes(altered)), FILTERS).reason == "PAGE_TOKEN_INVALID"


def test_an_empty_token_means_the_first_page() -> None:
    assert decode_token("", FILTERS) is None


@pytest.mark.parametrize(
    "other_filters",
    [
        {"issuer": "440000", "state": "ANNOUNCED"},
        {"issuer": "320000"},
        None,
    ],
)
def test_a_token_for_other_filters_is_rejected(other_filters: object) -> None:
    token = encode_token(17, FILTERS)
    error = rejection(token, other_filters)

    assert error.code.name == "INVALID_ARGUMENT"
    assert error.reason == "PAGE_TOKEN_MISMATCH"
    assert error.metadata == {"field": "page_token"}
    assert [(v.field, v.reason) for v in error.violations] == [("page_token", "PAGE_TOKEN_MISMATCH")]
    assert error.message.startswith("page_token")


def test_a_token_issued_without_filters_is_rejected_for_a_filtered_request() -> None:
    assert rejection(encode_token(17), FILTERS).reason == "PAGE_TOKEN_MISMATCH"


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@pytest.mark.parametrize(
    "token",
    [
        pytest.param("garbage", id="garbage"),
        pytest.param("!!!!", id="not-base64"),
        pytest.param("a", id="bad-padding"),
        pytest.param("\u00e9t\u00e9", id="non-ascii"),
        pytest.param(_b64(b"not json"), id="base64-not-json"),
        pytest.param(_b64(b"\xff\xfe\x00"), id="base64-not-utf8"),
        pytest.param(_b64(b"[1, 2]"), id="json-list"),
        pytest.param(_b64(b'"text"'), id="json-string"),
        pytest.param(_b64(b"null"), id="json-null"),
        pytest.param(_b64(json.dumps({"p": 1}).encode()), id="no-filter-hash"),
        pytest.param(_b64(json.dumps({"f": "0" * 16}).encode()), id="no-position"),
    ],
)
def test_garbage_is_an_invalid_token(token: str) -> None:
    error = rejection(token, FILTERS)
    assert error.code.name == "INVALID_ARGUMENT"
    assert error.reason == "PAGE_TOKEN_INVALID"
    assert [(v.field, v.reason) for v in error.violations] == [("page_token", "PAGE_TOKEN_INVALID")]


def test_a_truncated_token_is_rejected() -> None:
    token = encode_token({"after": "nodes/320000/registrations/r-1"}, FILTERS)
    error = rejection(token[: len(token) // 2], FILTERS)
    assert error.reason == "PAGE_TOKEN_INVALID"


def test_the_rejection_names_the_field_the_caller_used() -> None:
    with pytest.raises(InvalidArgument) as caught:
        decode_token("garbage", FILTERS, field="list_request.page_token")
    assert caught.value.metadata == {"field": "list_request.page_token"}


@pytest.mark.parametrize(
    ("requested", "expected"),
    [(0, 50), (1, 1), (50, 50), (999, 999), (1000, 1000), (1001, 1000), (10**9, 1000)],
)
def test_page_size(requested: int, expected: int) -> None:
    assert page_size(requested, default=50, maximum=1000) == expected


def test_a_negative_page_size_is_rejected() -> None:
    with pytest.raises(InvalidArgument) as caught:
        page_size(-1, default=50, maximum=1000)
    error = caught.value
    assert error.code.name == "INVALID_ARGUMENT"
    assert error.reason == "FIELD_OUT_OF_RANGE"
    assert [v.field for v in error.violations] == ["page_size"]

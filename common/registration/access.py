"""How registered data is obtained (如何获取): checking a registration's ``AccessTerms``.

The terms are part of the registered content (``RegistrationContent.access_terms``): they are versioned,
synced to the national ledger and logged with it, and a change of them is a change application like
any other. They are optional, since the registration rules (《公共数据资源登记管理暂行办法》) do not list them
among the materials and registrations made before they existed have none; once stated they must be
complete:

* the sharing attribute of 《政务数据共享条例》: 有条件共享 names its conditions, 不予共享 its legal basis;
* the open attribute: 有条件开放 names its conditions, 不予开放 its reason;
* each channel has a kind and, except 依申请, an address (a URI, checked as a document's is);
* the contact point is a department with a telephone number or an e-mail address;
* fees (a product's or service's fee list) are priced in yuan as decimal strings, never negative.

Every violation names its field (``registration.content.access_terms.fees[0].price_cny``), as the
rest of the content's checks do.
"""

from __future__ import annotations

import re
from typing import Any

from common.codes import ObjectType
from common.gen.registry.v1 import registration_pb2
from common.validation import Checker

__all__ = [
    "MAX_CHANNELS",
    "MAX_FEES",
    "PRICE",
    "is_linkable",
    "validate_access_terms",
    "validate_fee",
    "validate_fees_allowed",
]

_T = registration_pb2.AccessTerms
_C = registration_pb2.AccessChannel

#: At most this many channels, fee items.
MAX_CHANNELS, MAX_FEES = 20, 50
_TEXT, _NAME, _SHORT, _DESCRIPTION = 2000, 200, 100, 500
#: A price in yuan: no sign, no leading zero, at most 12 digits before the point and 4 after it.
PRICE = re.compile(r"(0|[1-9][0-9]{0,11})(\.[0-9]{1,4})?")
#: A scheme, a colon and no space or control character (the rule of a document's URI,
#: common.registration.content), with ASCII white space around it trimmed.
_URI = re.compile(r"[a-zA-Z][a-zA-Z0-9+.-]*:[^\x00-\x20\x7f-\x9f]+")
_URI_SPACE = "\t\n\v\f\r "
#: Schemes that run or embed content where a link is followed: never a channel's address.
_REFUSED_SCHEMES = frozenset({"javascript", "data", "vbscript"})
#: Schemes a page may link to; any other address is shown as text.
_LINKABLE_SCHEMES = frozenset({"http", "https", "ftp", "ftps", "sftp"})
#: A telephone number: digits, spaces, + - ( ) and 转 (extension), with at least five digits.
_PHONE = re.compile(r"[0-9+()\- 转]{5,40}")
#: An e-mail address: something, @, a domain with a dot; no space, no second @.
_EMAIL = re.compile(r"[^@\s<>\"]{1,64}@[^@\s<>\"]+\.[^@\s<>\".]+")


def _scheme(uri: str) -> str:
    return uri.strip(_URI_SPACE).split(":", 1)[0].lower()


def is_linkable(uri: str) -> bool:
    """Whether a page may make ``uri`` a link (a web or file-transfer address)."""
    return bool(_URI.fullmatch(uri.strip(_URI_SPACE))) and _scheme(uri) in _LINKABLE_SCHEMES


def _attribute(
    check: Checker,
    field: str,
    number: int,
    enum: Any,
    explained: dict[int, tuple[str, str, str]],
    texts: dict[str, str],
) -> None:
    """An attribute and the texts that go with some of its values: each text is required with its
    value (``explained``: value -> (text's field, the value in Chinese, what the text is)) and
    refused with any other."""
    check.enum_name(field, number, enum, required=False)
    for value, (text_field, label, what) in explained.items():
        text = texts[text_field]
        path = field.rsplit(".", 1)[0] + "." + text_field
        if number == value:
            if not text.strip():
                check.fail(path, "FIELD_REQUIRED", f"{label} needs {what}")
            else:
                check.text(path, text, max_length=_TEXT)
        elif text.strip():
            check.fail(path, "FIELD_NOT_ALLOWED", f"is stated only for {label}")


def _channel(check: Checker, field: str, channel: registration_pb2.AccessChannel) -> None:
    check.enum_name(f"{field}.kind", channel.kind, _C.Kind)
    uri = channel.uri
    if not uri.strip(_URI_SPACE):
        if channel.kind != _C.ON_REQUEST:
            check.fail(f"{field}.uri", "FIELD_REQUIRED", "is required: where to get the data")
    elif len(uri) > _TEXT:
        check.fail(f"{field}.uri", "FIELD_TOO_LONG", f"is {len(uri)} characters long; the limit is {_TEXT}")
    elif not _URI.fullmatch(uri.strip(_URI_SPACE)):
        check.fail(f"{field}.uri", "FIELD_MALFORMED", "must be a URI such as https://host/path")
    elif _scheme(uri) in _REFUSED_SCHEMES:
        check.fail(f"{field}.uri", "FIELD_MALFORMED", f"a {_scheme(uri)}: URI is not an address to get data")
    check.text(f"{field}.description", channel.description, max_length=_DESCRIPTION, required=False)


def _contact(check: Checker, field: str, contact: registration_pb2.ContactPoint) -> None:
    check.text(f"{field}.department", contact.department, max_length=_NAME)
    phone, email = contact.phone.strip(), contact.email.strip()
    if not phone and not email:
        check.fail(field, "FIELD_REQUIRED", "needs a telephone number or an e-mail address")
    if phone and not _PHONE.fullmatch(phone):
        check.fail(
            f"{field}.phone",
            "FIELD_MALFORMED",
            "must be a telephone number such as 025-83661234 (at most 40 digits, spaces, + - ( ) 转)",
        )
    elif phone and sum(c.isdigit() for c in phone) < 5:
        check.fail(f"{field}.phone", "FIELD_MALFORMED", "must have at least five digits")
    if len(email) > 254:
        check.fail(f"{field}.email", "FIELD_TOO_LONG", f"is {len(email)} characters long; the limit is 254")
    elif email and not _EMAIL.fullmatch(email):
        check.fail(
            f"{field}.email", "FIELD_MALFORMED", "must be an e-mail address such as data@example.gov.cn"
        )


def validate_fee(check: Checker, field: str, fee: registration_pb2.Fee) -> None:
    """Record every violation of one fee item (at ``field``) in ``check``."""
    _fee(check, field, fee)


def _fee(check: Checker, field: str, fee: registration_pb2.Fee) -> None:
    check.text(f"{field}.name", fee.name, max_length=_NAME)
    price = fee.price_cny.strip()
    if not price:
        check.fail(f"{field}.price_cny", "FIELD_REQUIRED", "is required: the price in yuan, e.g. 0.05")
    elif len(price) > 32:
        check.fail(
            f"{field}.price_cny", "FIELD_TOO_LONG", f"is {len(price)} characters long; the limit is 32"
        )
    elif price.startswith("-") and PRICE.fullmatch(price[1:]):
        check.fail(f"{field}.price_cny", "FIELD_OUT_OF_RANGE", "must not be negative")
    elif not PRICE.fullmatch(price):
        check.fail(
            f"{field}.price_cny",
            "FIELD_MALFORMED",
            "must be a price in yuan written as a decimal number, e.g. 0.05 or 12000 (no sign, no"
            " currency symbol, at most 4 decimal places)",
        )
    check.text(f"{field}.unit", fee.unit, max_length=_SHORT)


def validate_access_terms(check: Checker, terms: registration_pb2.AccessTerms, field: str) -> None:
    """Record every violation of ``terms`` (at ``field``, e.g. ``content.access_terms``) in ``check``."""
    p = field + "."
    texts = {
        "sharing_conditions": terms.sharing_conditions,
        "not_shared_basis": terms.not_shared_basis,
        "open_conditions": terms.open_conditions,
        "not_open_reason": terms.not_open_reason,
    }
    _attribute(
        check,
        p + "sharing_attribute",
        terms.sharing_attribute,
        _T.SharingAttribute,
        {
            _T.CONDITIONALLY_SHARED: (
                "sharing_conditions",
                "有条件共享 (CONDITIONALLY_SHARED)",
                "its conditions",
            ),
            _T.NOT_SHARED: ("not_shared_basis", "不予共享 (NOT_SHARED)", "its legal basis"),
        },
        texts,
    )
    _attribute(
        check,
        p + "open_attribute",
        terms.open_attribute,
        _T.OpenAttribute,
        {
            _T.CONDITIONALLY_OPEN: ("open_conditions", "有条件开放 (CONDITIONALLY_OPEN)", "its conditions"),
            _T.NOT_OPEN: ("not_open_reason", "不予开放 (NOT_OPEN)", "the reason it is not open"),
        },
        texts,
    )
    if len(terms.channels) > MAX_CHANNELS:
        check.fail(p + "channels", "FIELD_TOO_LONG", f"lists more than {MAX_CHANNELS} channels")
    for i, channel in enumerate(terms.channels[:MAX_CHANNELS]):
        _channel(check, f"{p}channels[{i}]", channel)
    if terms.HasField("contact"):
        _contact(check, p + "contact", terms.contact)
    check.text(p + "license", terms.license, max_length=_TEXT, required=False)
    if len(terms.fees) > MAX_FEES:
        check.fail(p + "fees", "FIELD_TOO_LONG", f"lists more than {MAX_FEES} fee items")
    for i, fee in enumerate(terms.fees[:MAX_FEES]):
        _fee(check, f"{p}fees[{i}]", fee)


def validate_fees_allowed(
    check: Checker, content: registration_pb2.RegistrationContent, object_type: int, prefix: str
) -> None:
    """Only a data product or service has a fee list (its operating entity publishes it)."""
    if content.access_terms.fees and object_type != ObjectType.DATA_PRODUCT_OR_SERVICE:
        check.fail(
            prefix + ".access_terms.fees",
            "FIELD_NOT_ALLOWED",
            "only a data product or service has a fee list",
        )

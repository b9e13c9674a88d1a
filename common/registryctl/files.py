"""Application files for ``registryctl``: a TOML file an operator or subject fills in, read into a
``RegistrationContent``.

The file's keys mirror ``registry.v1.RegistrationContent``: top-level strings (``data_name``,
``data_type``, ...), the list ``application_scenarios``, and the tables ``[subject]``, ``[agent]``
(with ``[agent.authorization]``), ``[storage]``, ``[security_assessment]``, ``[description]``,
``[commitment]`` and ``[operation_term]`` (TOML dates), and ``[access_terms]`` (how the data is
obtained: attributes by their names such as ``"CONDITIONALLY_OPEN"``, ``[access_terms.contact]``, and
the arrays of tables ``[[access_terms.channels]]`` and ``[[access_terms.fees]]``, prices as strings).
A document gives either its ``sha256`` or a ``path`` to the file, which is hashed here (a relative
path is taken from the TOML file's folder).

Only the file's shape and types are checked: an unknown key, a value of the wrong type, a document
that is missing or gives both ``sha256`` and ``path``. Whether the content is acceptable (required
fields, lengths, a valid USCC, an operation term only for products) is the registry's decision, and
the registry names every field at fault in its answer.
"""

from __future__ import annotations

import datetime
import difflib
import hashlib
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from google.protobuf.internal.enum_type_wrapper import EnumTypeWrapper
from google.type import date_pb2

from common.gen.registry.v1 import registration_pb2 as r

__all__ = ["ApplicationFileError", "load_application", "parse_application", "sha256_file"]

_CHUNK = 1 << 20

# Top-level string keys, in the order of RegistrationContent.
_STRINGS = (
    "data_name",
    "data_type",
    "data_format",
    "update_frequency",
    "legal_source",
    "evidence_deposit",
    "summary",
)
_DOCUMENTS = ("security_assessment", "description", "commitment")
_TOP_LEVEL = (
    *_STRINGS,
    "application_scenarios",
    "subject",
    "agent",
    "storage",
    *_DOCUMENTS,
    "operation_term",
    "access_terms",
)
_ACCESS_STRINGS = (
    "sharing_conditions",
    "not_shared_basis",
    "open_conditions",
    "not_open_reason",
    "license",
)
_ACCESS_KEYS = ("sharing_attribute", "open_attribute", *_ACCESS_STRINGS, "channels", "contact", "fees")


class ApplicationFileError(Exception):
    """The application file is missing, not TOML, or has a key of the wrong name or type."""

    def __init__(self, path: Path, key: str | None, message: str) -> None:
        self.path = path
        self.key = key
        self.message = message
        super().__init__(str(self))

    def __str__(self) -> str:
        where = f"{self.path}: {self.key}" if self.key else str(self.path)
        return f"{where}: {self.message}"


def sha256_file(path: Path) -> str:
    """Lower-case hex SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while chunk := file.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def load_application(path: Path | str) -> r.RegistrationContent:
    """Read an application file into a ``RegistrationContent``; raises :class:`ApplicationFileError`."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ApplicationFileError(path, None, "no such file") from None
    except IsADirectoryError:
        raise ApplicationFileError(path, None, "is a folder, not an application file") from None
    except UnicodeDecodeError as error:
        raise ApplicationFileError(path, None, f"not UTF-8 text ({error.reason})") from None
    except OSError as error:
        raise ApplicationFileError(path, None, f"cannot be read: {error.strerror}") from None
    except tomllib.TOMLDecodeError as error:
        raise ApplicationFileError(path, None, f"not valid TOML: {error}") from None
    return parse_application(data, source=path, base_dir=path.parent)


def parse_application(data: Mapping[str, Any], *, source: Path, base_dir: Path) -> r.RegistrationContent:
    """Build a ``RegistrationContent`` from parsed TOML; ``source`` names the file in errors."""
    return _Reader(source, base_dir).content(data)


def _describe(value: object) -> str:
    """The TOML type of a value, for error messages."""
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, datetime.datetime):
        return "a date-time"
    if isinstance(value, datetime.date):
        return "a date"
    if isinstance(value, datetime.time):
        return "a time"
    return type(value).__name__


class _Reader:
    """Reads one file's tables, naming the file and the dotted key in every error."""

    def __init__(self, source: Path, base_dir: Path) -> None:
        self.source = source
        self.base_dir = base_dir

    def _error(self, key: str | None, message: str) -> ApplicationFileError:
        return ApplicationFileError(self.source, key, message)

    def _check_keys(self, table: Mapping[str, Any], allowed: tuple[str, ...], prefix: str) -> None:
        for key in table:
            if key not in allowed:
                close = difflib.get_close_matches(key, allowed, n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                expected = ", ".join(allowed)
                raise self._error(_join(prefix, key), f"unknown key{hint}; expected one of: {expected}")

    def _table(self, value: object, key: str) -> Mapping[str, Any]:
        if not isinstance(value, dict):
            raise self._error(key, f"expected a table ([{key}]), got {_describe(value)}")
        return value

    def _string(self, table: Mapping[str, Any], key: str, prefix: str) -> str:
        value = table.get(key, "")
        if not isinstance(value, str):
            raise self._error(_join(prefix, key), f"expected a string, got {_describe(value)}")
        return value

    def _bool(self, table: Mapping[str, Any], key: str, prefix: str) -> bool:
        value = table.get(key, False)
        if not isinstance(value, bool):
            raise self._error(_join(prefix, key), f"expected true or false, got {_describe(value)}")
        return value

    def _date(self, table: Mapping[str, Any], key: str, prefix: str) -> date_pb2.Date | None:
        if key not in table:
            return None
        value = table[key]
        if isinstance(value, datetime.datetime) or not isinstance(value, datetime.date):
            raise self._error(
                _join(prefix, key),
                f"expected a date written without quotes, such as 2025-03-01, got {_describe(value)}",
            )
        return date_pb2.Date(year=value.year, month=value.month, day=value.day)

    def content(self, data: Mapping[str, Any]) -> r.RegistrationContent:
        self._check_keys(data, _TOP_LEVEL, "")
        content = r.RegistrationContent()
        for key in _STRINGS:
            setattr(content, key, self._string(data, key, ""))
        content.application_scenarios.extend(self._scenarios(data))
        if "subject" in data:
            content.subject.CopyFrom(self._subject(self._table(data["subject"], "subject")))
        if "agent" in data:
            content.agent.CopyFrom(self._agent(self._table(data["agent"], "agent")))
        if "storage" in data:
            table = self._table(data["storage"], "storage")
            self._check_keys(table, ("location", "method"), "storage")
            content.storage.location = self._string(table, "location", "storage")
            content.storage.method = self._string(table, "method", "storage")
        for key in _DOCUMENTS:
            if key in data:
                getattr(content, key).CopyFrom(self._document(data[key], key))
        if "operation_term" in data:
            table = self._table(data["operation_term"], "operation_term")
            self._check_keys(table, ("start", "end"), "operation_term")
            start = self._date(table, "start", "operation_term")
            end = self._date(table, "end", "operation_term")
            if start is not None:
                content.operation_term.start.CopyFrom(start)
            if end is not None:
                content.operation_term.end.CopyFrom(end)
            if start is None and end is None:
                content.operation_term.SetInParent()
        if "access_terms" in data:
            content.access_terms.CopyFrom(self._access(self._table(data["access_terms"], "access_terms")))
        return content

    def _enum(self, table: Mapping[str, Any], key: str, prefix: str, enum: EnumTypeWrapper) -> str | None:
        """An enum value's name (``"NOT_OPEN"``), checked; absent: None (not stated)."""
        value = self._string(table, key, prefix)
        if not value:
            return None
        names = [name for name in enum.keys() if not name.endswith("_UNSPECIFIED")]
        if value not in names:
            close = difflib.get_close_matches(value.upper(), names, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            expected = ", ".join(names)
            raise self._error(
                _join(prefix, key), f"unknown value {value!r}{hint}; expected one of: {expected}"
            )
        return value

    def _tables(self, table: Mapping[str, Any], key: str, prefix: str) -> list[Mapping[str, Any]]:
        value = table.get(key, [])
        where = _join(prefix, key)
        if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
            raise self._error(where, f"expected an array of tables ([[{where}]]), got {_describe(value)}")
        return value

    def _access(self, table: Mapping[str, Any]) -> r.AccessTerms:
        p = "access_terms"
        self._check_keys(table, _ACCESS_KEYS, p)
        terms = r.AccessTerms(
            sharing_attribute=self._enum(table, "sharing_attribute", p, r.AccessTerms.SharingAttribute),
            open_attribute=self._enum(table, "open_attribute", p, r.AccessTerms.OpenAttribute),
        )
        for key in _ACCESS_STRINGS:
            setattr(terms, key, self._string(table, key, p))
        for i, channel in enumerate(self._tables(table, "channels", p)):
            where = f"{p}.channels[{i}]"
            self._check_keys(channel, ("kind", "uri", "description"), where)
            terms.channels.add(
                kind=self._enum(channel, "kind", where, r.AccessChannel.Kind),
                uri=self._string(channel, "uri", where),
                description=self._string(channel, "description", where),
            )
        if "contact" in table:
            contact = self._table(table["contact"], f"{p}.contact")
            self._check_keys(contact, ("department", "phone", "email"), f"{p}.contact")
            terms.contact.department = self._string(contact, "department", f"{p}.contact")
            terms.contact.phone = self._string(contact, "phone", f"{p}.contact")
            terms.contact.email = self._string(contact, "email", f"{p}.contact")
        for i, fee in enumerate(self._tables(table, "fees", p)):
            where = f"{p}.fees[{i}]"
            self._check_keys(fee, ("name", "price_cny", "unit"), where)
            price = fee.get("price_cny", "")
            if isinstance(price, int | float) and not isinstance(price, bool):
                raise self._error(
                    _join(where, "price_cny"),
                    f'expected the price as a string of decimal digits, such as "{price}", got a number',
                )
            terms.fees.add(
                name=self._string(fee, "name", where),
                price_cny=self._string(fee, "price_cny", where),
                unit=self._string(fee, "unit", where),
            )
        return terms

    def _scenarios(self, data: Mapping[str, Any]) -> list[str]:
        value = data.get("application_scenarios", [])
        if not isinstance(value, list):
            raise self._error(
                "application_scenarios",
                f'expected an array of strings such as ["...", "..."], got {_describe(value)}',
            )
        for index, item in enumerate(value):
            if not isinstance(item, str):
                raise self._error(
                    f"application_scenarios[{index}]", f"expected a string, got {_describe(item)}"
                )
        return value

    def _subject(self, table: Mapping[str, Any]) -> r.Subject:
        self._check_keys(table, ("name", "uscc", "central"), "subject")
        return r.Subject(
            name=self._string(table, "name", "subject"),
            uscc=self._string(table, "uscc", "subject"),
            central=self._bool(table, "central", "subject"),
        )

    def _agent(self, table: Mapping[str, Any]) -> r.Agent:
        self._check_keys(table, ("name", "uscc", "authorization"), "agent")
        agent = r.Agent(name=self._string(table, "name", "agent"), uscc=self._string(table, "uscc", "agent"))
        if "authorization" in table:
            agent.authorization.CopyFrom(self._document(table["authorization"], "agent.authorization"))
        return agent

    def _document(self, value: object, key: str) -> r.Document:
        table = self._table(value, key)
        self._check_keys(table, ("title", "uri", "sha256", "path"), key)
        document = r.Document(title=self._string(table, "title", key), uri=self._string(table, "uri", key))
        if "sha256" in table and "path" in table:
            raise self._error(
                key, "give either sha256 or path (the file to hash), not both: they could disagree"
            )
        if "path" in table:
            document.sha256 = self._hash(self._string(table, "path", key), _join(key, "path"))
        else:
            document.sha256 = self._string(table, "sha256", key)
        return document

    def _hash(self, value: str, key: str) -> str:
        if not value:
            raise self._error(key, "is empty; give the document's file, relative to the application file")
        path = Path(value).expanduser()
        if not path.is_absolute():
            path = self.base_dir / path
        try:
            return sha256_file(path)
        except FileNotFoundError:
            raise self._error(key, f"no such file: {path}") from None
        except IsADirectoryError:
            raise self._error(key, f"is a folder, not a file: {path}") from None
        except OSError as error:
            raise self._error(key, f"cannot read {path}: {error.strerror}") from None


def _join(prefix: str, key: str) -> str:
    return f"{prefix}.{key}" if prefix else key

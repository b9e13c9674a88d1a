"""The canonical form of registered materials is made without json_format's generic machinery, and
must stay exactly what json_format makes (its SHA-256 is in every confirmation, on every node)."""

from __future__ import annotations

from google.protobuf import json_format
from hypothesis import given, settings

from common.gen.registry.v1 import national_service_pb2, registration_pb2, sync_pb2
from common.registration.content import canonical_json, json_mapping
from common.transparency.jcs import canonical
from tests.fuzz_strategies import message_bytes
from tests.sync_support import awaiting_code


def _reference(message: registration_pb2.RegistrationContent) -> str:
    return canonical(
        json_format.MessageToDict(message, preserving_proto_field_name=True), checked=False
    ).decode()


@settings(max_examples=400, deadline=None)
@given(message_bytes(registration_pb2.RegistrationContent.DESCRIPTOR))
def test_any_content_maps_to_what_json_format_makes(data: bytes) -> None:
    content = registration_pb2.RegistrationContent.FromString(data)
    assert json_mapping(content) == json_format.MessageToDict(content, preserving_proto_field_name=True)
    assert canonical_json(content) == _reference(content)


@settings(max_examples=200, deadline=None)
@given(message_bytes(national_service_pb2.AssignCodeRequest.DESCRIPTOR))
def test_enums_map_by_name_and_unknown_numbers_as_numbers(data: bytes) -> None:
    message = national_service_pb2.AssignCodeRequest.FromString(data)
    assert json_mapping(message) == json_format.MessageToDict(message, preserving_proto_field_name=True)


def test_a_real_content_with_its_dates_maps_the_same() -> None:
    content = awaiting_code("nodes/320000/registrations/r-1", object_type=2).registration.content
    content.operation_term.start.year, content.operation_term.start.month = 2026, 1
    content.operation_term.start.day = 1
    assert canonical_json(content) == _reference(content)
    assert '"start":{"day":1,"month":1,"year":2026}' in canonical_json(content)


def test_types_it_does_not_plan_are_left_to_json_format() -> None:
    # A record holds timestamps (google.protobuf.Timestamp): json_format's own rules apply to it.
    record = awaiting_code("nodes/320000/registrations/r-2")
    record.registration.create_time.FromSeconds(1_800_000_000)
    assert json_mapping(record) == json_format.MessageToDict(record, preserving_proto_field_name=True)
    assert isinstance(json_mapping(record)["registration"]["create_time"], str)
    assert json_mapping(sync_pb2.RegistrationRecord()) == {}

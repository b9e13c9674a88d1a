"""Builds a provincial node: health, reflection and the registration service's contract.

The registration workflow itself is not served yet: every RegistrationService method answers
UNIMPLEMENTED (the generated base servicer), while health checking and reflection already work so
that operators can deploy and probe the node.
"""

from __future__ import annotations

from common.gen.registry.v1 import registration_service_pb2, registration_service_pb2_grpc
from common.grpc_server import NodeServer
from provincial_node.settings import ProvincialSettings

__all__ = ["create_server"]

SERVICE_NAMES = (registration_service_pb2.DESCRIPTOR.services_by_name["RegistrationService"].full_name,)


def create_server(settings: ProvincialSettings) -> NodeServer:
    return NodeServer(
        listen=settings.listen,
        max_workers=settings.max_workers,
        add_services=lambda s: registration_service_pb2_grpc.add_RegistrationServiceServicer_to_server(
            registration_service_pb2_grpc.RegistrationServiceServicer(), s
        ),
        service_names=SERVICE_NAMES,
        shutdown_grace=settings.shutdown_grace,
    )

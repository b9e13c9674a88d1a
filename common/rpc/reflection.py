"""Server reflection that serves the contract with its documentation.

grpcio-reflection answers from the descriptors compiled into the stubs, which carry no comments, so
``grpcurl describe`` would show none of the contract's documentation. This servicer answers for the
``registry.v1`` files from ``common/gen/registry_v1.binpb`` (made by ``scripts/gen_protos.py`` with
the source info), and for any other file as grpcio-reflection does.
"""

from __future__ import annotations

from functools import cache
from importlib import resources

from google.protobuf import descriptor_pb2, descriptor_pool
from google.protobuf.descriptor import FileDescriptor
from grpc_reflection.v1alpha import reflection_pb2
from grpc_reflection.v1alpha._async import ReflectionServicer

__all__ = ["DocumentedReflection", "documented_files"]

_POOL = descriptor_pool.Default()


@cache
def documented_files() -> dict[str, bytes]:
    """Serialized FileDescriptorProtos with source info, by file name."""
    data = resources.files("common.gen").joinpath("registry_v1.binpb").read_bytes()
    files = descriptor_pb2.FileDescriptorSet.FromString(data).file
    return {f.name: f.SerializeToString() for f in files}


def _closure(descriptor: FileDescriptor, seen: dict[str, FileDescriptor]) -> dict[str, FileDescriptor]:
    seen[descriptor.name] = descriptor
    for dependency in descriptor.dependencies:
        if dependency.name not in seen:
            _closure(dependency, seen)
    return seen


def _response(
    descriptor: FileDescriptor, request: reflection_pb2.ServerReflectionRequest
) -> reflection_pb2.ServerReflectionResponse:
    documented = documented_files()
    protos = []
    for name, file in _closure(descriptor, {}).items():
        if name in documented:
            protos.append(documented[name])
        else:
            proto = descriptor_pb2.FileDescriptorProto()
            file.CopyToProto(proto)
            protos.append(proto.SerializeToString())
    return reflection_pb2.ServerReflectionResponse(
        file_descriptor_response=reflection_pb2.FileDescriptorResponse(file_descriptor_proto=protos),
        original_request=request,
    )


class DocumentedReflection(ReflectionServicer):  # type: ignore[misc]  # grpcio-reflection is untyped
    """``grpc.reflection.v1alpha.ServerReflection`` with the contract's comments."""

    def _file_by_filename(
        self, request: reflection_pb2.ServerReflectionRequest, filename: str
    ) -> reflection_pb2.ServerReflectionResponse:
        try:
            descriptor = _POOL.FindFileByName(filename)
        except KeyError:
            return super()._file_by_filename(request, filename)  # its NOT_FOUND answer
        return _response(descriptor, request)

    def _file_containing_symbol(
        self, request: reflection_pb2.ServerReflectionRequest, fully_qualified_name: str
    ) -> reflection_pb2.ServerReflectionResponse:
        try:
            descriptor = _POOL.FindFileContainingSymbol(fully_qualified_name)
        except KeyError:
            return super()._file_containing_symbol(request, fully_qualified_name)
        return _response(descriptor, request)

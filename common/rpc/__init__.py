"""The gRPC boundary shared by both tiers: calls, handlers, error status, the node's server."""

from common.rpc.call import Call
from common.rpc.handlers import Boundary
from common.rpc.server import NodeServer
from common.rpc.status import status_for

__all__ = ["Boundary", "Call", "NodeServer", "status_for"]

"""The registration procedure, written once and composed by both nodes.

A node builds a :class:`Registry` (the procedure on its database), a :class:`Duties` (what it does
by itself on time) and serves a :class:`RegistrationServicer`. What differs between the tiers is
passed in: the jurisdiction (which subjects the node registers) and the code source (the national
node, over gRPC for a province, in-process for the national node itself).
"""

from common.registration.duties import CodeSource, Duties
from common.registration.procedure import Jurisdiction, Registry
from common.registration.service import RegistrationServicer

__all__ = ["CodeSource", "Duties", "Jurisdiction", "RegistrationServicer", "Registry"]

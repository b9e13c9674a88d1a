"""The registration procedure, written once and composed by both nodes.

Layers, from the wire inwards:

* :mod:`~common.registration.service`: the gRPC servicer. Checks requests, converts them to domain
  values, runs each write once per request id (:mod:`~common.registration.idempotency`), and converts
  rows back to messages (:mod:`~common.registration.views`).
* :mod:`~common.registration.procedure`: the transitions, on domain values
  (:mod:`~common.registration.domain`, :mod:`~common.registration.states`) and rows, in a transaction.
  :mod:`~common.registration.duties` runs what the node does by itself through its public methods.
* :mod:`~common.registration.queries`: every read of the tables (:mod:`~common.registration.models`).

What differs between the tiers is passed in (:mod:`~common.registration.node`): the jurisdiction
(which subjects the node registers), the code source (the national node, over gRPC for a province,
in-process for the national node itself) and the change hook (the change log, or the ledger).
"""

from common.registration.duties import CodeSource, Duties
from common.registration.node import RegistrationNode, build_registration
from common.registration.procedure import ChangeHook, Jurisdiction, Procedure
from common.registration.service import RegistrationServicer

__all__ = [
    "ChangeHook",
    "CodeSource",
    "Duties",
    "Jurisdiction",
    "Procedure",
    "RegistrationNode",
    "RegistrationServicer",
    "build_registration",
]

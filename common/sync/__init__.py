"""Interconnection (互联互通) as both tiers need it: registration records, digests and gapless sequences.

What only one tier keeps lives with it: the change log in :mod:`provincial_node.changelog`, the
national ledger and its feeds in :mod:`national_node.ledger`.
"""

from common.sync.records import bucket_digests, export_record, import_record, record_digest, rename
from common.sync.sequences import CounterRow, fast_forward, take_number

__all__ = [
    "CounterRow",
    "bucket_digests",
    "export_record",
    "fast_forward",
    "import_record",
    "record_digest",
    "rename",
    "take_number",
]

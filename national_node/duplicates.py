"""Duplicate detection before coding: registrations across the country an application may repeat.

A node asks when it accepts an application (NationalService.FindDuplicates; the national node's own
registry calls :meth:`DuplicateFinder.find_duplicates` in-process). The answer comes from the national
ledger's search index (:class:`~national_node.models.SearchRow`, one row per registration in the
ledger, whatever its node), so it covers every province that has synced, and from the entries of the
national log the indexer has not followed yet (the index trails the ledger by a fraction of a second,
and two near-duplicates may well be accepted within it).

What "similar" means
--------------------

Two data names are compared by :func:`national_node.words.name_similarity`:

* 1.0 when their normal forms (:func:`~national_node.words.name_key`: NFKC, lower case, no
  punctuation, without generic endings such as 数据, 数据集, 信息, 库) are equal;
* 0.0 when both start with a place (jieba's ``ns`` tag, e.g. 南京市, 南通市, 长江) and the places
  differ once 省/市/区/县... are dropped: the same data about another place is other data. 全省, 全市,
  本市 ... (the subject's whole area) match any place;
* otherwise the Jaccard index |A ∩ B| / |A ∪ B| of the token sets of what follows the place (each
  character a token, a run of ASCII letters or digits one token), with 记录 and 统计 also dropped
  from the end. Characters, not words: an abbreviation keeps characters of the full form (公交 of
  公共交通, 社保 of 社会保险), where jieba's words of the two have nothing in common.

A registration in the ledger is a candidate when it is not DEREGISTERED or CLOSED, is not the
application's own registration (by name, and by uid when the caller knows it), and

* ``SAME_SUBJECT_SIMILAR_NAME``: it has the same subject (USCC) and a similarity of at least
  :data:`THRESHOLD`; or
* ``RELATED_SUBJECT_SAME_NAME``: another USCC with the same organisation code (USCC characters 9-17,
  the part that survives a change of registration authority) or the same normalised subject name,
  and the same data name key (similarity 1.0).

Candidates come best first (most similar; then same subject before related subject; then by name),
at most :data:`MAX_CANDIDATES`. Of one subject, the :data:`SUBJECT_ROWS` newest registrations are
compared; one with the same name key is found however many the subject has.

How the threshold was chosen
----------------------------

On the labelled set kept in ``tests/unit/test_duplicates.py`` (realistic names under one subject: 21
pairs of near-duplicates such as 南京市公共交通刷卡数据 / 南京市公交刷卡数据集 / 南京公共交通刷卡记录,
全省社会保险参保数据 / 全省社保参保信息; 25 pairs of distinct data such as 南京市公共交通刷卡数据 /
南京市公共自行车站点信息, 全省道路交通流量数据 / 全省道路交通事故数据, 南京市公交刷卡数据 /
南通市公交刷卡数据), the near-duplicates score 0.60 to 1.00 and the distinct pairs 0.00 to 0.50: any
threshold in (0.50, 0.60] separates them all (21/21 found, 0/25 flagged). :data:`THRESHOLD` is 0.55,
midway. For comparison, on the same set the Jaccard index of jieba's words does at best 15/21 found
with 2/25 flagged (threshold 0.60), of character bigrams 14/21 with 1/25 (0.55), and of characters
without the place rule and the record endings 18/21 with 1/25 (0.71).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import or_
from sqlalchemy import select as select_columns
from sqlmodel import Session, col

from common import names
from common.db import Database
from common.gen.registry.v1 import national_service_pb2 as ns
from common.gen.registry.v1 import registration_pb2 as r
from common.validation import Checker
from national_node.models import SearchRow
from national_node.search import index_version, log_entries
from national_node.words import name_key, name_similarity

__all__ = ["MAX_CANDIDATES", "SUBJECT_ROWS", "THRESHOLD", "DuplicateFinder"]

logger = logging.getLogger(__name__)

#: Similarity from which a registration of the same subject is a possible duplicate.
THRESHOLD = 0.55
#: Candidates at most in one answer (the default, and the most a request may ask for).
MAX_CANDIDATES = 20
#: Registrations of one subject compared at most (the newest).
SUBJECT_ROWS = 5000
#: States whose registrations are never candidates: they will not be (or are no longer) coded.
ENDED = ("DEREGISTERED", "CLOSED")
#: Log entries past the search index's cursor read at most (the newest): the index's lag, normally
#: a few hundred entries at most; more only while it catches up after a burst.
TAIL_ENTRIES = 5000
#: Longest data name and subject name, as the registration content allows.
_NAME = 200

_C = r.DuplicateCandidate
#: What a candidate is made of (the rows' words and summary are not read).
_COLUMNS = (
    col(SearchRow.uid),
    col(SearchRow.name),
    col(SearchRow.code),
    col(SearchRow.state),
    col(SearchRow.subject_uscc),
    col(SearchRow.subject_name),
    col(SearchRow.data_name),
)


@dataclass(frozen=True, slots=True)
class _Row:
    uid: str
    name: str
    code: str | None
    state: str
    subject_uscc: str
    subject_name: str
    data_name: str


class DuplicateFinder:
    """Possible duplicates of an application, from the national ledger's search index. Reads only."""

    def __init__(self, db: Database, *, threshold: float = THRESHOLD) -> None:
        self.db = db
        self.threshold = threshold

    # -- the RPC --------------------------------------------------------------------------------

    def find_request(self, request: ns.FindDuplicatesRequest) -> ns.FindDuplicatesResponse:
        """NationalService.FindDuplicates: the request checked (INVALID_ARGUMENT naming each bad field)."""
        check = Checker()
        content = request.content
        check.uscc("content.subject.uscc", content.subject.uscc)
        check.text("content.subject.name", content.subject.name, max_length=_NAME, required=False)
        check.text("content.data_name", content.data_name, max_length=_NAME)
        if request.registration:
            shape = names.SHAPES["registration"]
            check.pattern("registration", request.registration, names.REGISTRATION, shape)
        limit = check.page_size(
            "max_candidates", request.max_candidates, default=MAX_CANDIDATES, maximum=MAX_CANDIDATES
        )
        check.done()
        found = self.find(content, registration=request.registration, limit=limit)
        return ns.FindDuplicatesResponse(candidates=found)

    # -- in-process (the national node's own registry) ------------------------------------------

    def find_duplicates(
        self, content: r.RegistrationContent, *, registration: str, uid: str
    ) -> list[r.DuplicateCandidate]:
        """:class:`common.registration.service.DuplicateSource` for the national node's own registry."""
        return self.find(content, registration=registration, uid=uid)

    # -- the search -----------------------------------------------------------------------------

    def find(
        self,
        content: r.RegistrationContent,
        *,
        registration: str = "",
        uid: str = "",
        limit: int = MAX_CANDIDATES,
    ) -> list[r.DuplicateCandidate]:
        """The candidates for ``content`` (its subject and data name), best first, at most ``limit``;
        ``registration`` (its name) and ``uid`` are the application's own, left out."""
        subject = content.subject.uscc.strip().upper()
        organisation = subject[8:17]
        subject_key = name_key(content.subject.name)
        data_name = content.data_name.strip()
        key = name_key(data_name)
        rows = self._rows(subject, organisation, subject_key, key)
        found: list[tuple[float, int, str, _Row]] = []
        for row in rows:
            if (registration and row.name == registration) or (uid and row.uid == uid):
                continue
            if row.subject_uscc == subject:
                similarity = name_similarity(data_name, row.data_name)
                if similarity >= self.threshold:
                    found.append((similarity, _C.SAME_SUBJECT_SIMILAR_NAME, row.name, row))
            elif name_key(row.data_name) == key:
                found.append((1.0, _C.RELATED_SUBJECT_SAME_NAME, row.name, row))
        found.sort(key=lambda item: (-item[0], item[1], item[2]))
        return [_candidate(row, reason, similarity) for similarity, reason, _, row in found[:limit]]

    def _rows(self, subject: str, organisation: str, subject_key: str, key: str) -> list[_Row]:
        """The subject's registrations, and those of the same name key under a related subject."""
        related = [col(SearchRow.subject_uscc) == subject]
        if len(organisation) == 9:
            related.append(col(SearchRow.subject_org) == organisation)
        if subject_key:
            related.append(col(SearchRow.subject_key) == subject_key)
        live = col(SearchRow.state).not_in(ENDED)
        with self.db.transaction(write=False) as session:
            same_subject = session.execute(
                select_columns(*_COLUMNS)
                .where(col(SearchRow.subject_uscc) == subject, live)
                .order_by(col(SearchRow.created_at).desc())
                .limit(SUBJECT_ROWS)
            ).all()
            same_name = session.execute(
                select_columns(*_COLUMNS).where(col(SearchRow.name_key) == key, or_(*related), live)
            ).all()
            tail = _unindexed(session)
        seen: dict[str, _Row] = {}
        for found in (*same_subject, *same_name):
            seen.setdefault(found[0], _Row(*found))
        for row in tail:  # newer than the index: it replaces what the index holds of the registration
            seen.pop(row.uid, None)
            if row.state in ENDED:
                continue
            if row.subject_uscc == subject or (
                name_key(row.data_name) == key
                and (
                    (len(organisation) == 9 and row.subject_uscc[8:17] == organisation)
                    or (subject_key and name_key(row.subject_name) == subject_key)
                )
            ):
                seen[row.uid] = row
        return list(seen.values())


def _unindexed(session: Session) -> list[_Row]:
    """The registrations of the log entries the search index has not followed yet, newest last."""
    entries = log_entries(session, index_version(session) or 0, TAIL_ENTRIES, newest=True)
    if len(entries) == TAIL_ENTRIES:
        logger.warning("the search index is more than %d log entries behind the ledger", TAIL_ENTRIES)
    rows: dict[str, _Row] = {}
    for _, entry in entries:
        if entry.get("kind") != "registration":
            continue
        subject = entry.get("subject", {})
        rows.pop(entry["uid"], None)  # the newest entry of a registration, in its place in order
        rows[entry["uid"]] = _Row(
            entry["uid"],
            entry["registration"],
            entry.get("code"),
            entry["state"],
            subject.get("uscc", ""),
            subject.get("name", ""),
            entry["data_name"],
        )
    return list(rows.values())


def _candidate(row: _Row, reason: int, similarity: float) -> r.DuplicateCandidate:
    return r.DuplicateCandidate(
        registration=row.name,
        code=row.code or "",
        data_name=row.data_name,
        subject=r.Subject(name=row.subject_name, uscc=row.subject_uscc),
        state=row.state,
        reason=reason,  # type: ignore[arg-type]
        similarity=round(similarity, 4),
    )

"""The public search index of the national ledger, and the queries the public window asks of it.

:class:`SearchIndex` makes and writes one :class:`~national_node.models.SearchRow` per registration,
holding only public fields (:mod:`national_node.public`) and the words of its public text
(:mod:`national_node.words`); text that did not change is not segmented again. The index follows the
ledger's own ordered log (:mod:`national_node.indexer`), off the ledger's transactions, so indexing
costs the sync nothing but a share of the machine.

:class:`Search` answers the portal: word queries with filters, counts per filter value, relevance or
newest-first order, keyset paging (a page ends at a position, the next starts after it, so items are
neither lost nor repeated when others change meanwhile), announcements, lookups by code.

A query is read as people write: its abbreviations also find their full forms (:mod:`.synonyms`),
traditional characters are read as simplified (:func:`~national_node.words.fold`), a query that finds
nothing gets a correction of its mistyped words from the words of the index's names
(:mod:`.spelling`) and, when it has several words, the registrations that hold most of them, marked as
a partial match.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Text, and_, event, func, literal, not_, or_, tuple_, type_coerce
from sqlalchemy import select as sql_select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col, select

from common import regions
from common.db import Database, insert_for
from common.gen.registry.v1 import registration_pb2, sync_pb2
from common.sync.sequences import current
from national_node.models import LedgerRow, LogEntryRow, SearchCursorRow, SearchRow, SearchWordRow
from national_node.public import access_filters
from national_node.spelling import MAX_WORD, MIN_WORD, Vocabulary, readings
from national_node.synonyms import Synonyms, Term
from national_node.tlog.storage import COUNTER
from national_node.words import name_key, query_spans, query_words, words_of

__all__ = [
    "CURSOR",
    "FACETS",
    "LIST_FILTERS",
    "Search",
    "SearchIndex",
    "SearchQuery",
    "SearchResult",
    "index_behind",
    "index_version",
    "indexed_fields",
    "log_entries",
]

logger = logging.getLogger(__name__)

_R = registration_pb2.Registration
_A = registration_pb2.Application

#: The filters (and their facets), by query parameter: the column each filters on.
FACETS: dict[str, str] = {
    "object_type": "object_type",
    "region": "region",
    "subject": "subject_uscc",
    "state": "state",
    "update_frequency": "update_frequency",
    "sharing_attribute": "sharing_attribute",
    "open_attribute": "open_attribute",
}
#: Filters on one of a registration's several values (the kinds of its access channels), by query
#: parameter: matched by their tags alone (on SQLite too), and not counted.
LIST_FILTERS: dict[str, str] = {"channel_kind": "channel_kinds"}
SORTS = ("relevance", "newest")


def tag(facet: str, value: str) -> str:
    """A row's filter value kept among its words (``region:320000``), so that on PostgreSQL one GIN
    lookup intersects the words and the filters before any row is read. No word has a colon: jieba
    splits at punctuation, so a query can never ask for a tag."""
    return f"{facet}:{value}"


#: The tag of a word of the data name or the subject's name.
TITLE = "title"
#: The tag of a word of the data name (a match on the name comes before one on the subject alone).
NAME = "name"


def _is_tag(word: str) -> bool:
    return ":" in word


#: The name of the search index's cursor (:class:`~national_node.models.SearchCursorRow`).
CURSOR = "search"


def index_version(session: Session) -> int | None:
    """How far the index has followed the national log: the next entry it will read (None: the
    indexer's first start has not indexed the ledger yet)."""
    cursor = session.get(SearchCursorRow, CURSOR)
    return cursor.next_index if cursor is not None else None


def index_behind(session: Session) -> int | None:
    """Log entries the index has still to follow (None: it is being built)."""
    version = index_version(session)
    return None if version is None else max(0, current(session, COUNTER) - version)


def log_entries(
    session: Session, start: int, limit: int, *, newest: bool = False
) -> list[tuple[int, dict[str, Any]]]:
    """The national log's entries from index ``start`` on, at most ``limit`` (the first ones, or the
    newest ones), in log order, parsed. The log is this node's own, so its entries are read as it
    wrote them, without a verifier's checks."""
    index = col(LogEntryRow.index)
    rows = session.exec(
        select(LogEntryRow.index, LogEntryRow.entry)
        .where(index >= start)
        .order_by(index.desc() if newest else index)
        .limit(limit)
    ).all()
    ordered = reversed(rows) if newest else rows
    return [(at, json.loads(bytes(data))) for at, data in ordered]


#: Fields that change with every change of a registration but say nothing to the public.
_BOOKKEEPING = frozenset({"revision", "updated_at"})
#: Matches counted exactly; beyond, PostgreSQL's counts are estimates (SearchResult.approximate).
COUNT_CAP = 1000
#: Queries whose counts are remembered at most (for ``facet_cache_seconds``).
CACHED_QUERIES = 2000
#: Results (pages) of recent queries remembered at most, each valid while the index has not moved.
CACHED_RESULTS = 1000
#: Facet values read at most per facet: more than the province-level regions, so only the subject
#: and update-frequency facets (cut to FACET_VALUES) are ever cut short.
_FACET_ROWS = 64
#: Facet values shown at most per facet (the most frequent).
FACET_VALUES = 20
#: Words of the vocabulary an indexer remembers having written.
KNOWN_WORDS = 200_000
#: Queries whose terms (synonyms looked up) are remembered.
CACHED_TERMS = 4096
#: Corrected queries tried at most for one suggestion.
SUGGESTIONS_TRIED = 3


def _day(value: Any) -> date | None:
    return date(value.year, value.month, value.day) if value.year else None


def _text_of(content: registration_pb2.RegistrationContent) -> list[str]:
    return [
        content.data_name,
        content.subject.name,
        content.data_type,
        content.summary,
        *content.application_scenarios,
    ]


def indexed_fields(record: sync_pb2.RegistrationRecord) -> dict[str, Any]:
    """The search row's public fields of a ledger record (all but its words)."""
    reg = record.registration
    content = reg.content
    app = reg.current_application
    subject = content.subject
    if subject.central:
        region = regions.NATIONAL
    elif subject.region and regions.is_region(subject.region):
        region = regions.province_of(subject.region).code
    else:
        region = reg.managing_node.removeprefix("nodes/")
    announced = app.state == _A.ANNOUNCED
    created = reg.create_time.ToDatetime(tzinfo=UTC) if reg.HasField("create_time") else None
    updated = reg.update_time.ToDatetime(tzinfo=UTC) if reg.HasField("update_time") else None
    return {
        "uid": reg.uid,
        "name": reg.name,
        "code": reg.code or None,
        "node": reg.managing_node.removeprefix("nodes/"),
        "region": region,
        "object_type": registration_pb2.ObjectType.Name(reg.object_type),
        "state": _R.State.Name(reg.state),
        "announced": announced,
        "application_id": app.id if announced else "",
        "announcement_end": _day(app.announcement_end) if announced else None,
        "announcement_end_provisional": announced and app.announcement_end_provisional,
        "subject_uscc": subject.uscc,
        "subject_org": subject.uscc[8:17],
        "subject_name": subject.name,
        "subject_key": name_key(subject.name),
        "data_name": content.data_name,
        "name_key": name_key(content.data_name),
        "summary": content.summary,
        "update_frequency": content.update_frequency,
        "data_format": content.data_format,
        **access_filters(content.access_terms),
        "valid_from": _day(reg.valid_from),
        "valid_until": _day(reg.valid_until),
        "created_at": created,
        "updated_at": updated,
        "revision": record.revision,
    }


class SearchIndex:
    """Writes the search rows of ledger records: :meth:`known` reads what the index holds of a batch,
    :meth:`row` makes a registration's row from its record (outside any transaction: segmenting is
    the slow part), :meth:`write` writes a batch's rows in one upsert.

    A change that alters nothing the public sees (an acceptance, an approval) is recognised by the
    digest of its public fields and writes nothing; text that did not change is not segmented again.
    """

    def known(self, session: Session, uids: Iterable[str]) -> dict[str, _Known | None]:
        """What the index holds of these registrations (None: no row yet), in one query per 500."""
        wanted = list(dict.fromkeys(uids))
        found: dict[str, _Known | None] = dict.fromkeys(wanted)
        for chunk in range(0, len(wanted), 500):
            selected = _KNOWN_COLUMNS.where(col(SearchRow.uid).in_(wanted[chunk : chunk + 500]))
            for row in session.execute(selected):
                found[row[0]] = _Known(*row[1:])
        return found

    def row(
        self, record: sync_pb2.RegistrationRecord, before: _Known | None, *, now: datetime
    ) -> dict[str, Any] | None:
        """The search row of ``record``, or None when ``before`` (what the index holds) shows the same."""
        fields = indexed_fields(record)
        text = _text_of(record.registration.content)
        digest = hashlib.sha256("\x1f".join(text).encode()).hexdigest()[:32]
        public = _fields_digest(fields)
        if before is not None and before.fields_digest == public and before.text_digest == digest:
            return None
        created = fields["created_at"] or (before.created_at if before else now)
        if before is not None and before.text_digest == digest:
            words = [word for word in before.words if not _is_tag(word)]
        else:
            words = words_of(text)
        # The words of the data name, and of the title (data name and subject), tagged: the first tiers
        # of relevance. (Their pieces were just segmented for the text, and are remembered.)
        words += [tag(NAME, word) for word in words_of(text[:1])]
        words += [tag(TITLE, word) for word in words_of(text[:2])]
        words += [tag(key, str(fields[column])) for key, column in FACETS.items()]
        words += [tag(key, v) for key, column in LIST_FILTERS.items() for v in fields[column].split()]
        return {
            **fields,
            "created_at": created,
            "updated_at": fields["updated_at"] or now,
            "text_digest": digest,
            "fields_digest": public,
            "words": words,
        }

    def __init__(self) -> None:
        #: Words this process has seen committed to the vocabulary (not written again), at most
        #: KNOWN_WORDS: most rounds bring no new word.
        self._known_words: set[str] = set()

    def write(self, session: Session, rows: Sequence[dict[str, Any]]) -> None:
        """Insert or replace ``rows`` (by uid), in one statement; a row the index holds at a newer
        revision is kept. The words of their names join the vocabulary (:class:`SearchWordRow`)."""
        if not rows:
            return
        self._write_vocabulary(session, rows)
        table = SearchRow.__table__  # type: ignore[attr-defined]
        statement = insert_for(session)(table)
        statement = statement.on_conflict_do_update(
            index_elements=["uid"],
            set_={c.name: statement.excluded[c.name] for c in table.columns if c.name != "uid"},
            # Never an older revision over a newer one (two indexers by mistake, a repeated round).
            where=table.c.revision <= statement.excluded.revision,
        )
        session.execute(statement, list(rows))

    def _write_vocabulary(self, session: Session, rows: Sequence[dict[str, Any]]) -> None:
        prefix = tag(TITLE, "")
        new = sorted(
            {
                word[len(prefix) :]
                for row in rows
                for word in row["words"]
                if word.startswith(prefix) and MIN_WORD <= len(word) - len(prefix) <= MAX_WORD
            }
            - self._known_words
        )
        if not new:
            return
        statement = insert_for(session)(SearchWordRow).on_conflict_do_nothing(index_elements=["word"])
        session.execute(statement, [{"word": word} for word in new])

        def committed(_: Session) -> None:  # only then: a round rolled back is written again
            if len(self._known_words) + len(new) > KNOWN_WORDS:
                self._known_words.clear()
            self._known_words.update(new)

        event.listen(session, "after_commit", committed, once=True)

    def put(self, session: Session, record: sync_pb2.RegistrationRecord, *, now: datetime) -> bool:
        """Index one record in ``session``'s transaction; False when nothing public changed."""
        uid = record.registration.uid
        row = self.row(record, self.known(session, [uid])[uid], now=now)
        if row is not None:
            self.write(session, [row])
        return row is not None

    def backfill(self, db: Database, *, batch: int = 2000) -> int:
        """Index every ledger entry the index does not have (a ledger kept before the index existed,
        or an index rebuilt from scratch). Returns how many were indexed."""
        done = 0
        after = ""
        started = time.monotonic()
        while True:
            with db.transaction(write=False) as session:
                missing = session.exec(
                    select(LedgerRow.uid, LedgerRow.record)
                    .outerjoin(SearchRow, col(SearchRow.uid) == col(LedgerRow.uid))
                    .where(col(SearchRow.uid).is_(None), col(LedgerRow.uid) > after)
                    .order_by(col(LedgerRow.uid))
                    .limit(batch)
                ).all()
            if not missing:
                break
            now = datetime.now(UTC)
            rows = [
                self.row(sync_pb2.RegistrationRecord.FromString(blob), None, now=now) for _, blob in missing
            ]
            with db.transaction() as session:
                # Only rows still missing: an indexer following the log may have written some meanwhile.
                present = set(
                    session.exec(select(SearchRow.uid).where(col(SearchRow.uid).in_([u for u, _ in missing])))
                )
                self.write(session, [row for row in rows if row is not None and row["uid"] not in present])
            after = missing[-1][0]
            done += len(missing)
        if done:
            logger.info("indexed %d ledger entries for search in %.1f s", done, time.monotonic() - started)
        return done


@dataclass(frozen=True, slots=True)
class _Known:
    """What the index holds of a registration, as far as a put needs to know."""

    fields_digest: str
    text_digest: str
    words: list[str]
    created_at: datetime


_KNOWN_COLUMNS = sql_select(
    col(SearchRow.uid),
    col(SearchRow.fields_digest),
    col(SearchRow.text_digest),
    col(SearchRow.words),
    col(SearchRow.created_at),
)


def _fields_digest(fields: dict[str, Any]) -> str:
    public = sorted((key, value) for key, value in fields.items() if key not in _BOOKKEEPING)
    return hashlib.sha256(repr(public).encode()).hexdigest()[:32]


# -- queries -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SearchQuery:
    """A search: words, filters (by :data:`FACETS` key), order, page."""

    q: str = ""
    filters: dict[str, str] = field(default_factory=dict)
    sort: str = "relevance"
    page_size: int = 20

    @functools.cached_property
    def _words(self) -> tuple[str, ...]:
        return tuple(query_words(self.q)) if self.q.strip() else ()

    def words(self) -> list[str]:
        """The query's words, segmented once (paging and counting ask again)."""
        return list(self._words)

    def key(self) -> dict[str, Any]:
        """What a page token is bound to: the same words, filters and order."""
        return {"w": self.words(), "f": dict(sorted(self.filters.items())), "s": self.sort}


@dataclass
class SearchResult:
    items: list[SearchRow]
    total: int
    facets: dict[str, list[tuple[str, str, int]]]  # facet -> (value, label, count)
    next_position: list[Any] | None
    #: The words the results were matched on (synonyms included): what a page marks.
    words: list[str]
    #: The total and the counts are estimates: more than COUNT_CAP registrations match (the counts
    #: are those of COUNT_CAP of them, scaled to the planner's estimate of the total).
    approximate: bool = False
    #: No registration holds every term of the query: these hold some of them (``omitted``: the terms
    #: left out, as the query's search form has them).
    partial: bool = False
    omitted: list[str] = field(default_factory=list)
    #: The query with its mistyped words corrected from the words of the index's names ("" : none);
    #: offered when nothing holds every term of the query, and only when it finds something.
    suggestion: str = ""
    #: Other words the query's terms were also matched on, from the synonym dictionary.
    synonyms: list[str] = field(default_factory=list)


def _escape_like(word: str) -> str:
    return word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


class Search:
    """The portal's queries. Reads only; safe to share between threads."""

    def __init__(
        self,
        db: Database,
        *,
        facet_cache_seconds: float = 0.0,
        cached_results: int = CACHED_RESULTS,
        synonyms: Synonyms | None = None,
    ) -> None:
        self.db = db
        self.postgres = db.engine.dialect.name == "postgresql"
        #: The abbreviations and synonyms a query's terms also find (the shipped dictionary unless given).
        self.synonyms = synonyms if synonyms is not None else Synonyms.load()
        self._terms: OrderedDict[str, list[Term]] = OrderedDict()
        self._terms_lock = threading.Lock()
        #: The words of the index's names, for suggestions: read when first needed, then extended.
        self.vocabulary = Vocabulary()
        self._vocabulary_lock = threading.Lock()
        #: Counts of recent queries (words and filters), newest last, at most CACHED_QUERIES.
        self._cache: OrderedDict[str, tuple[float, Any]] = OrderedDict()
        self._cache_lock = threading.Lock()
        self.facet_cache_seconds = facet_cache_seconds
        #: Pages of recent queries, by query and position, with the index's version they were read at.
        self._results: OrderedDict[str, tuple[int, SearchResult]] = OrderedDict()
        self._results_lock = threading.Lock()
        self.cached_results = cached_results
        #: Pages being read now, by key: a second asker waits for the first's answer.
        self._reading: dict[str, threading.Event] = {}

    # -- conditions ---------------------------------------------------------------------------

    def _match(self, words: Sequence[str]) -> list[ColumnElement[bool]]:
        if not words:
            return []
        if self.postgres:
            return [type_coerce(col(SearchRow.words), ARRAY(Text)).contains(list(words))]
        # (As text: the column's own type would take the pattern for a list of words.)
        text = type_coerce(col(SearchRow.words), Text)
        return [text.like(f"% {_escape_like(w)} %", escape="\\") for w in words]

    def _conditions(
        self, query: SearchQuery, terms: Sequence[Term], where: str = ""
    ) -> list[ColumnElement[bool]]:
        """Registrations that hold every term (each term: one of its alternatives, all of its words),
        among the words (``where`` empty) or among the words tagged ``where`` (NAME, TITLE), and pass
        the query's filters."""

        def tagged(words: Sequence[str]) -> list[str]:
            return [tag(where, w) for w in words] if where else list(words)

        plain = [w for term in terms if not term.expanded for w in tagged(term.alternatives[0])]
        either = [
            or_(*[and_(*self._match(tagged(alternative))) for alternative in term.alternatives])
            for term in terms
            if term.expanded
        ]
        if self.postgres:  # the filters as tags: one GIN lookup for words and filters together
            tags = [tag(key, value) for key, value in sorted(query.filters.items())]
            return [*self._match([*plain, *tags]), *either]
        conditions = [*self._match(plain), *either]
        for key, value in query.filters.items():
            if key in LIST_FILTERS:
                conditions += self._match([tag(key, value)])
            else:
                conditions.append(getattr(SearchRow, FACETS[key]) == value)
        return conditions

    def terms(self, query: SearchQuery) -> list[Term]:
        """The query's terms with their synonyms (:meth:`Synonyms.terms`), remembered for recent
        queries (paging and counting ask again)."""
        if not query.q.strip():
            return []
        with self._terms_lock:
            found = self._terms.get(query.q)
            if found is not None:
                self._terms.move_to_end(query.q)
                return found
        found = self.synonyms.terms(query.q)
        with self._terms_lock:
            self._terms[query.q] = found
            while len(self._terms) > CACHED_TERMS:
                self._terms.popitem(last=False)
        return found

    # -- search -------------------------------------------------------------------------------

    def search(self, query: SearchQuery, after: list[Any] | None = None) -> SearchResult:
        """A page of results, with the counts per filter value; ``after`` is the position the previous
        page ended at (``next_position``).

        A registration matches when it holds every term of the query, a term matching by any of its
        alternatives (the term itself, its synonyms). When none does, the result is a partial match
        (:meth:`_partial`), and a correction of mistyped words is suggested (:meth:`_suggest`).

        Relevance is in three tiers: first the registrations whose data name holds every term, then
        those whose data name and subject together do, then the rest; newest first within each. Each
        tier (and newest-first) reads the registration-time index from the top down, filtered by the
        words, so a page costs what it shows and not what the query matches. A position is
        ``[tier, created_at, uid]``, and for a partial match also the terms it kept.
        """
        if not self.cached_results:
            with self.db.transaction(write=False) as session:
                return self._search(session, query, after)
        key = repr((query.key(), query.page_size, after))
        # A page read before is answered again while the index has not moved since (its version is
        # how far it has followed the log): never older than what the index holds.
        with self.db.transaction(write=False) as session:
            version = index_version(session)
        with self._results_lock:
            hit = self._results.get(key)
            if hit is not None and version is not None and hit[0] == version:
                self._results.move_to_end(key)
                return hit[1]
            reading = self._reading.get(key)
            mine = reading is None
            if mine:
                reading = self._reading[key] = threading.Event()
        assert reading is not None
        if not mine:
            # Another thread reads this page now (a popular query, many askers): its answer will do.
            reading.wait(10.0)
            with self._results_lock:
                hit = self._results.get(key)
            if hit is not None and version is not None and hit[0] >= version:
                return hit[1]
        try:
            with self.db.transaction(write=False) as session:
                version = index_version(session)
                result = self._search(session, query, after)
            if version is not None:
                with self._results_lock:
                    self._results[key] = (version, result)
                    self._results.move_to_end(key)
                    while len(self._results) > self.cached_results:
                        self._results.popitem(last=False)
            return result
        finally:
            if mine:
                with self._results_lock:
                    del self._reading[key]
                reading.set()

    def _search(self, session: Session, query: SearchQuery, after: list[Any] | None) -> SearchResult:
        # Each word a term needs, a term of its own (人口普查: 人口, 普查): the same match, and the
        # pieces a partial match can keep or leave out.
        terms = [
            Term(text=word, alternatives=((word,),)) if not term.expanded else term
            for term in self.terms(query)
            for word in (term.alternatives[0] if not term.expanded else (term.text,))
        ]
        # A partial match is decided on the first page and kept by the position (its fifth element:
        # the terms kept), so that the next pages page through the same result.
        kept: list[int] | None = list(after[3]) if after is not None and len(after) > 3 else None
        if kept is not None and not all(isinstance(i, int) and 0 <= i < len(terms) for i in kept):
            kept = None  # (a position is sealed; only a change of the synonym dictionary gets here)
        matched = terms if kept is None else [terms[i] for i in kept]
        conditions = self._conditions(query, matched)
        facets, total, approximate = self._facets(session, query, kept, conditions)
        suggestion = ""
        if terms and (kept is not None or (total == 0 and after is None)):
            suggestion = self._suggest(session, query, terms)
        if total == 0 and after is None and len(terms) > 1:
            best = self._partial(session, query, terms)
            if best:
                kept, matched = best, [terms[i] for i in best]
                conditions = self._conditions(query, matched)
                facets, total, approximate = self._facets(session, query, kept, conditions)
        if query.sort == "newest" or not matched:
            tiers = [(0, conditions)]
        else:
            # Registrations whose data name holds every term, then those whose data name and subject
            # together do, then the rest. Each tier asks for its tags alone (they imply the words,
            # and PostgreSQL, which takes conditions as independent, would take the two together for
            # rare), less the tiers before it.
            named = self._conditions(query, matched, NAME)
            titled = self._conditions(query, matched, TITLE)
            tiers = [(2, named), (1, [*titled, not_(and_(*named))]), (0, [*conditions, not_(and_(*titled))])]
        wanted = query.page_size + 1
        found: list[tuple[int, SearchRow]] = []
        for tier, where in tiers:
            if after is not None and tier > after[0]:
                continue  # the previous page ended in a later tier
            start = after if after is not None and tier == after[0] else None
            found += [(tier, row) for row in self._newest(session, where, start, wanted - len(found))]
            if len(found) >= wanted:
                break
        items = [row for _, row in found[: query.page_size]]
        next_position = None
        if len(found) > query.page_size:
            tier, last = found[query.page_size - 1]
            next_position = [tier, last.created_at.isoformat(), last.uid]
            if kept is not None:
                next_position.append(kept)
        words = list(dict.fromkeys(w for term in matched for a in term.alternatives for w in a))
        typed = {w for term in terms for w in term.alternatives[0]}
        return SearchResult(
            items=items,
            total=total,
            facets=facets,
            next_position=next_position,
            words=words,
            approximate=approximate,
            partial=kept is not None,
            omitted=[terms[i].text for i in range(len(terms)) if kept is not None and i not in kept],
            suggestion=suggestion,
            synonyms=[
                w
                for w in dict.fromkeys("".join(a) for t in matched for a in t.alternatives[1:])
                if w not in typed
            ],
        )

    def _count(self, session: Session, conditions: list[ColumnElement[bool]]) -> int:
        """How many registrations match, counted up to COUNT_CAP + 1."""
        matches = sql_select(literal(1)).select_from(SearchRow).where(*conditions).limit(COUNT_CAP + 1)
        return int(session.execute(sql_select(func.count()).select_from(matches.subquery())).scalar_one())

    def _exists(self, session: Session, conditions: list[ColumnElement[bool]]) -> bool:
        return session.execute(sql_select(col(SearchRow.uid)).where(*conditions).limit(1)).first() is not None

    def _partial(self, session: Session, query: SearchQuery, terms: list[Term]) -> list[int]:
        """The terms a partial match keeps (their places in ``terms``), when no registration holds them
        all: the rarest term that finds anything, then each next rarest while together they still find
        something. A rare term says more of what is sought than a common one (in 空气治理, 空气 is
        in the names of a few registrations and 治理 among the application scenarios of many), and
        counting each term alone costs one capped count per term (at most eight). A term of one
        character is never kept: what jieba leaves of a word it does not know (苏康码: 苏 / 康 / 码)
        would match anything."""
        counts = [
            (self._count(session, self._conditions(query, [term])), i)
            for i, term in enumerate(terms)
            if len(term.text) > 1  # a character alone (码 of 苏康码) says too little to match on
        ]
        kept: list[int] = []
        for count, i in sorted(counts):
            if count == 0:
                continue
            trial = sorted([*kept, i])
            if not kept or self._exists(session, self._conditions(query, [terms[j] for j in trial])):
                kept = trial
        return kept

    # -- "did you mean" -------------------------------------------------------------------------

    def _read_vocabulary(self, session: Session) -> None:
        """Add the words the indexer has added since the vocabulary last read (one indexed read)."""
        with self._vocabulary_lock:
            while True:
                rows = session.exec(
                    select(SearchWordRow.id, SearchWordRow.word)
                    .where(col(SearchWordRow.id) > self.vocabulary.last_id)
                    .order_by(col(SearchWordRow.id))
                    .limit(50_000)
                ).all()
                self.vocabulary.extend((int(i or 0), w) for i, w in rows)
                if len(rows) < 50_000:
                    return

    def warm(self) -> None:
        """Read the vocabulary of names and the pinyin table now (a second at 10^5 registrations),
        not on the first query that needs a suggestion."""
        readings("")
        with self.db.transaction(write=False) as session:
            self._read_vocabulary(session)

    def _suggest(self, session: Session, query: SearchQuery, terms: list[Term]) -> str:
        """The query with its mistyped words corrected, when the correction finds registrations: each
        word that is not in the vocabulary of names (and each run of single characters, which is what
        jieba makes of a word it does not know: 气像 is 气 / 像) is replaced by its likeliest near word
        (:meth:`Vocabulary.candidates`; between equally likely ones, the one more names hold)."""
        self._read_vocabulary(session)
        text, spans = query_spans(query.q)
        runs: list[tuple[int, int]] = []  # (start, end) of each word to correct, in ``text``
        for word, start, end in spans:
            single = len(word) == 1 and "\u3400" <= word <= "\u9fff"
            if single and runs and runs[-1][1] == start and self._single_run(text, runs[-1]):
                runs[-1] = (runs[-1][0], end)
            else:
                runs.append((start, end))
        choices: list[tuple[int, int, list[str]]] = []
        for start, end in runs:
            word = text[start:end]
            if len(word) < 2 or word in self.vocabulary:
                continue
            candidates = self.vocabulary.candidates(word)[:5]
            if not candidates:
                continue
            titled = {c.word: self._count(session, self._match([tag(TITLE, c.word)])) for c in candidates}
            ranked = sorted(candidates, key=lambda c: (c.rank, -titled[c.word], c.word))
            choices.append((start, end, [c.word for c in ranked if titled[c.word]]))
        choices = [c for c in choices if c[2]]
        if not choices:
            return ""
        # The likeliest correction of every word first, then the second likeliest of each in turn.
        tries = [[0] * len(choices)]
        for at, (_, _, words) in enumerate(choices):
            if len(words) > 1:
                tries.append([1 if i == at else 0 for i in range(len(choices))])
        for picks in tries[:SUGGESTIONS_TRIED]:
            corrected = text
            for (start, end, words), pick in sorted(zip(choices, picks, strict=True), reverse=True):
                corrected = corrected[:start] + words[pick] + corrected[end:]
            corrected = " ".join(corrected.split())
            trial = SearchQuery(q=corrected, filters=query.filters)
            if self._exists(session, self._conditions(query, self.terms(trial))):
                return corrected
        return ""

    @staticmethod
    def _single_run(text: str, run: tuple[int, int]) -> bool:
        """The run so far is of single Chinese characters (a run grows only by such characters)."""
        return all("\u3400" <= c <= "\u9fff" for c in text[run[0] : run[1]])

    def _newest(
        self, session: Session, where: list[ColumnElement[bool]], after: list[Any] | None, limit: int
    ) -> list[SearchRow]:
        created, uid = col(SearchRow.created_at), col(SearchRow.uid)
        statement = select(SearchRow).where(*where)
        if after is not None:
            at = datetime.fromisoformat(after[1])
            statement = statement.where(tuple_(created, uid) < tuple_(literal(at), literal(after[2])))
        return list(session.exec(statement.order_by(created.desc(), uid.desc()).limit(limit)))

    def _facets(
        self,
        session: Session,
        query: SearchQuery,
        kept: list[int] | None,
        conditions: list[ColumnElement[bool]],
    ) -> tuple[dict[str, list[tuple[str, str, int]]], int, bool]:
        """The counts per filter value and the total: exact up to :data:`COUNT_CAP` matches. Beyond,
        on PostgreSQL, they are counted on COUNT_CAP of the matches and scaled to the planner's estimate
        of how many match (a broad word matches a good part of 10^6 registrations, and counting them
        all would cost far more than the page); SQLite counts exactly."""
        # Counts are remembered for a few seconds (as long as a reader's cache keeps the page): a
        # popular query is counted once per period, not once per visitor. The page itself is read
        # fresh every time.
        cache_key = repr((query.key(), kept)) if self.facet_cache_seconds > 0 else ""
        if cache_key:
            with self._cache_lock:
                hit = self._cache.get(cache_key)
            if hit is not None and time.monotonic() - hit[0] < self.facet_cache_seconds:
                return hit[1]  # type: ignore[no-any-return]
        if self.postgres:
            facets = self._facets_at_once(session, conditions, limit=COUNT_CAP + 1)
            total = sum(count for _, _, count in facets["object_type"])
            approximate = total > COUNT_CAP
            if approximate:
                estimate = max(self._estimate(session, conditions), total)
                scale = estimate / total
                facets = {
                    key: [(value, label, max(1, round(count * scale))) for value, label, count in values]
                    for key, values in facets.items()
                }
                total = sum(count for _, _, count in facets["object_type"])
        else:
            facets = self._facets_one_by_one(session, conditions)
            total, approximate = sum(count for _, _, count in facets["object_type"]), False
        answer = (facets, total, approximate)
        if cache_key:
            with self._cache_lock:
                self._cache[cache_key] = (time.monotonic(), answer)
                self._cache.move_to_end(cache_key)
                while len(self._cache) > CACHED_QUERIES:
                    self._cache.popitem(last=False)
        return answer

    def _estimate(self, session: Session, conditions: list[ColumnElement[bool]]) -> int:
        """PostgreSQL's estimate of how many registrations match (its statistics, no scan)."""
        statement = sql_select(literal(1)).select_from(SearchRow).where(*conditions)
        compiled = statement.compile(dialect=session.get_bind().dialect)
        plan = session.connection().exec_driver_sql(f"EXPLAIN (FORMAT JSON) {compiled}", compiled.params)
        return int(plan.scalar_one()[0]["Plan"]["Plan Rows"])

    def _facets_at_once(
        self, session: Session, conditions: list[ColumnElement[bool]], *, limit: int
    ) -> dict[str, list[tuple[str, str, int]]]:
        """PostgreSQL: every facet's counts in one pass over (at most ``limit`` of) the matches."""
        columns = [getattr(SearchRow, name) for name in FACETS.values()]
        matches = sql_select(*columns, col(SearchRow.subject_name)).where(*conditions).limit(limit).subquery()
        picked = [matches.c[c.key] for c in columns]
        grouping_of = func.grouping(*picked)
        count = func.count()
        # Each facet's most frequent values only (a sample of 1,000 can have 1,000 subjects): ranked
        # within its grouping set, by count and then value (one column is set per grouping set).
        rank = func.row_number().over(
            partition_by=grouping_of, order_by=(count.desc(), func.coalesce(*picked))
        )
        counted = (
            sql_select(*picked, func.max(matches.c.subject_name), count, grouping_of, rank.label("rank"))
            .group_by(func.grouping_sets(*[tuple_(c) for c in picked]))
            .subquery()
        )
        kept = [c for c in counted.c if c.key != "rank"]
        statement = sql_select(*kept).where(counted.c.rank <= _FACET_ROWS)
        keys = list(FACETS)
        found: dict[str, list[tuple[str, str, int]]] = {key: [] for key in keys}
        for row in session.execute(statement):
            grouping = int(row[-1])
            # GROUPING(...) has a 0 bit for the column grouped by (the first column is the high bit).
            at = next(i for i in range(len(keys)) if not grouping & (1 << (len(keys) - 1 - i)))
            value = row[at]
            label = row[len(keys)] if keys[at] == "subject" else value
            found[keys[at]].append((str(value), str(label), int(row[len(keys) + 1])))
        for key, values in found.items():
            values.sort(key=lambda v: (-v[2], v[0]))
            if key in ("subject", "update_frequency"):
                del values[FACET_VALUES:]
        return found

    def _facets_one_by_one(
        self, session: Session, conditions: list[ColumnElement[bool]]
    ) -> dict[str, list[tuple[str, str, int]]]:
        facets: dict[str, list[tuple[str, str, int]]] = {}
        for key, column_name in FACETS.items():
            column = getattr(SearchRow, column_name)
            count = func.count().label("n")
            if key == "subject":
                statement = select(column, func.max(SearchRow.subject_name), count)
            else:
                statement = select(column, column, count)
            statement = statement.where(*conditions).group_by(column).order_by(count.desc(), column)
            limit = FACET_VALUES if key in ("subject", "update_frequency") else None
            rows = session.exec(statement.limit(limit) if limit else statement).all()
            facets[key] = [(str(value), str(label), int(n)) for value, label, n in rows]
        return facets

    def ready(self) -> int | None:
        """How many log entries the index has still to follow (None: it is being built); raises
        unless the index can be read (the database is there and migrated)."""
        with self.db.transaction(write=False) as session:
            session.exec(select(SearchRow.uid).limit(1)).first()
            return index_behind(session)

    # -- lookups ------------------------------------------------------------------------------

    def announcements(
        self, today: date, *, limit: int = 50, after: list[Any] | None = None
    ) -> list[SearchRow]:
        """Everything under announcement whose last day is today or later, closing soonest first."""
        with self.db.transaction(write=False) as session:
            statement = select(SearchRow).where(
                col(SearchRow.announced).is_(True), col(SearchRow.announcement_end) >= today
            )
            if after is not None:
                statement = statement.where(
                    tuple_(col(SearchRow.announcement_end), col(SearchRow.uid))
                    > tuple_(literal(date.fromisoformat(after[0])), literal(after[1]))
                )
            statement = statement.order_by(col(SearchRow.announcement_end), col(SearchRow.uid))
            return list(session.exec(statement.limit(limit)))

    def get(self, uid: str) -> tuple[SearchRow, LedgerRow] | None:
        with self.db.transaction(write=False) as session:
            row = session.get(SearchRow, uid)
            ledger = session.get(LedgerRow, uid)
            if row is None or ledger is None:
                return None
            session.expunge_all()
            return row, ledger

    def by_code(self, code: str) -> tuple[SearchRow, LedgerRow] | None:
        with self.db.transaction(write=False) as session:
            row = session.exec(select(SearchRow).where(SearchRow.code == code)).first()
            if row is None:
                return None
            ledger = session.get(LedgerRow, row.uid)
            if ledger is None:
                return None
            session.expunge_all()
            return row, ledger

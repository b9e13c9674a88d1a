""" "Did you mean": corrections of mistyped words from the words the index's names hold.

The vocabulary is the words of every data name and subject name the index has held
(:class:`~national_node.models.SearchWordRow`, written by the indexer): a correction is always a word
some registration's name was written with, never one from a general dictionary. A word of a query
that is not in the vocabulary is compared with the vocabulary's words one edit away, a character
changed, added or left out (a "deletion neighbourhood": each vocabulary word is filed under itself
with each of its characters left out, so the near words of a query word are a few dictionary
lookups, whatever the vocabulary's size).

Most typing mistakes in Chinese are a homophone picked from the input method's list (气像 for 气象):
a character changed for one with the same pinyin ranks first, and for a word of two characters it is
the only change taken (one character of two changed for any other makes another word, not a typo).
Pinyin comes from pypinyin's table of readings of single characters (its ``pinyin_dict.json``, read
without its phrase dictionary), tones left out.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import threading
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

__all__ = ["MAX_VOCABULARY", "Candidate", "Vocabulary", "readings"]

logger = logging.getLogger(__name__)

#: Words a vocabulary holds at most (beyond, new words are not added; a warning says so once).
MAX_VOCABULARY = 1_000_000
#: The shortest and the longest word that is corrected or suggested, in characters.
MIN_WORD, MAX_WORD = 2, 12

_readings: dict[str, frozenset[str]] | None = None
_readings_lock = threading.Lock()


def _toneless(syllable: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFD", syllable) if not unicodedata.combining(c))


def readings(char: str) -> frozenset[str]:
    """A character's readings in pinyin without tones (相: xiang; 行: xing, hang); empty for a
    character that has none (letters, digits)."""
    global _readings
    if _readings is None:
        with _readings_lock:
            if _readings is None:
                # The package's table of single characters, without importing the package, which
                # would load its phrase dictionary too (some 50 MB).
                spec = importlib.util.find_spec("pypinyin")
                assert spec is not None and spec.submodule_search_locations
                path = Path(next(iter(spec.submodule_search_locations))) / "pinyin_dict.json"
                table = json.loads(path.read_text(encoding="utf-8"))
                _readings = {
                    chr(int(code)): frozenset(_toneless(r) for r in value.split(","))
                    for code, value in table.items()
                }
    return _readings.get(char, frozenset())


def homophones(a: str, b: str) -> bool:
    """Two characters read alike (a reading in common, tones aside)."""
    return bool(readings(a) & readings(b))


@dataclass(frozen=True, slots=True, order=True)
class Candidate:
    """A vocabulary word one edit away from a query word; a lower ``rank`` is a likelier correction
    (0: a character changed for a homophone; 1: any other edit)."""

    rank: int
    word: str


def _one_edit(a: str, b: str) -> str | None:
    """How ``b`` is one edit from ``a``: "change" (at the same place), "add" (b has one more
    character), "drop" (b has one fewer); None when it is not."""
    if len(a) == len(b):
        diffs = [i for i in range(len(a)) if a[i] != b[i]]
        return "change" if len(diffs) == 1 else None
    if abs(len(a) - len(b)) != 1:
        return None
    longer, shorter = (b, a) if len(b) > len(a) else (a, b)
    for i in range(len(shorter) + 1):
        if longer[:i] + longer[i + 1 :] == shorter:
            return "add" if longer is b else "drop"
    return None


class Vocabulary:
    """The vocabulary of names, kept in memory and extended with the words added since it last read
    (:meth:`extend`); safe to share between threads."""

    def __init__(self, *, limit: int = MAX_VOCABULARY) -> None:
        self.limit = limit
        #: The highest id read (the next read starts after it).
        self.last_id = 0
        self._words: set[str] = set()
        #: A word with one character left out -> the vocabulary's words it comes from.
        self._near: dict[str, list[str]] = {}
        self._lock = threading.Lock()
        self._full = False

    def __len__(self) -> int:
        return len(self._words)

    def __contains__(self, word: object) -> bool:
        return word in self._words

    def extend(self, rows: Iterable[tuple[int, str]]) -> None:
        """Add words read from the index (id, word), in order of id."""
        with self._lock:
            for row_id, word in rows:
                self.last_id = max(self.last_id, row_id)
                if word in self._words or not MIN_WORD <= len(word) <= MAX_WORD:
                    continue
                if len(self._words) >= self.limit:
                    if not self._full:
                        logger.warning("the vocabulary for suggestions is full (%d words)", self.limit)
                        self._full = True
                    continue
                self._words.add(word)
                for i in range(len(word)):
                    self._near.setdefault(word[:i] + word[i + 1 :], []).append(word)

    def candidates(self, word: str) -> list[Candidate]:
        """The vocabulary's words one edit from ``word`` that could be what was meant, likeliest
        first: for a word of two characters only a homophone changed; for longer words any one edit
        (a homophone first)."""
        if not MIN_WORD <= len(word) <= MAX_WORD or word in self._words:
            return []
        with self._lock:
            near: set[str] = set(self._near.get(word, ()))  # one character more than the query's
            for i in range(len(word)):
                shorter = word[:i] + word[i + 1 :]
                near.update(self._near.get(shorter, ()))  # a character changed
                if shorter in self._words:
                    near.add(shorter)  # one character fewer
        found = []
        for other in near:
            edit = _one_edit(word, other)
            if edit is None or len(other) < MIN_WORD:
                continue
            if edit == "change":
                at = next(i for i in range(len(word)) if word[i] != other[i])
                rank = 0 if homophones(word[at], other[at]) else 1
            else:
                rank = 1
            if rank == 0 or len(word) > 2:
                found.append(Candidate(rank, other))
        return sorted(found)

"""Abbreviations and synonyms for search: 医保 also finds 医疗保障, 社保 also finds 社会保险.

The dictionary is read from text files: the one shipped with the project
(``national_node/dictionaries/synonyms.txt``) and, if the operator names one, their own
(``portal.synonyms_file``), whose lines add to the shipped ones. The format is the synonym format of
Solr and Elasticsearch, in UTF-8, one rule a line:

- ``医保, 医疗保障, 医疗保险``: equivalent terms, each finds the others;
- ``医院 => 医疗机构``: one way, the terms on the left also find those on the right (医院 finds
  医疗机构 but 医疗机构 does not find 医院); a term always finds itself too;
- ``#`` starts a comment, to the end of the line; blank lines are skipped;
- terms are compared as search compares words: full-width letters and commas are read as ASCII,
  letters in lower case, traditional characters as simplified, spaces inside a term ignored.

A rule that cannot be read (one term alone, an empty term, two ``=>``, a term over
:data:`MAX_TERM` characters) stops the portal's start with the file and line.

Expansion happens when a query is read, not when a registration is indexed: a change of the dictionary
takes effect when the portal restarts, without rebuilding the index, and the index stays the words the
registrations hold. The price is a query with more conditions (one OR per expanded term), which the
GIN index answers as it answers the words themselves.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from national_node.words import match_words, query_tokens

__all__ = ["SHIPPED", "Synonyms", "SynonymsError", "Term"]

#: The dictionary shipped with the project.
SHIPPED = Path(__file__).resolve().parent / "dictionaries" / "synonyms.txt"
#: The longest term, in characters.
MAX_TERM = 40
#: Query tokens one term may span at most (医疗保障 is one token, 人力资源和社会保障 three).
MAX_SPAN = 4
#: Terms of a query kept at most, alternatives of a term, words of an alternative.
MAX_TERMS, MAX_ALTERNATIVES, MAX_WORDS = 8, 8, 8
#: Rules read at most from one file.
MAX_RULES = 100_000

_SEPARATOR = re.compile(r"[,，]")


class SynonymsError(ValueError):
    """A synonym file that cannot be read: which file, which line, what is wrong."""


@dataclass(frozen=True, slots=True)
class Term:
    """One term of a query: what was typed (in its search form), and the alternatives that match it,
    each the words a registration must all hold (the first alternative is the term itself)."""

    text: str
    alternatives: tuple[tuple[str, ...], ...]

    @property
    def expanded(self) -> bool:
        return len(self.alternatives) > 1


def _words_of(tokens: Sequence[str]) -> tuple[str, ...]:
    """The words a registration must hold to match these tokens (:func:`match_words` of each)."""
    words: dict[str, None] = {}
    for token in tokens:
        words.update(dict.fromkeys(match_words(token)))
    return tuple(words)[:MAX_WORDS]


class Synonyms:
    """The dictionary, read once: for each term, the other terms it also finds."""

    def __init__(self) -> None:
        #: A term (its query tokens joined: spaces, punctuation and stop words such as 和 left out)
        #: -> the other terms it finds, in the order the files give them.
        self.rules: dict[str, list[str]] = {}
        #: A term -> the words a registration must hold to match it.
        self._words: dict[str, tuple[str, ...]] = {}

    @classmethod
    def load(cls, *paths: Path | None) -> Synonyms:
        """The rules of the shipped dictionary and of each file given (None: skipped)."""
        synonyms = cls()
        for path in (SHIPPED, *paths):
            if path is not None:
                synonyms.read(path)
        return synonyms

    def read(self, path: Path) -> None:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise SynonymsError(f"{path}: cannot be read as UTF-8 text: {error}") from None
        self.add(text.splitlines(), source=str(path))

    def add(self, lines: Iterable[str], *, source: str = "<rules>") -> None:
        for number, line in enumerate(lines, start=1):
            if number > MAX_RULES:
                raise SynonymsError(f"{source}: more than {MAX_RULES} lines")
            rule = line.split("#", 1)[0].strip()
            if not rule:
                continue
            where = f"{source}, line {number}"
            parts = rule.split("=>")
            if len(parts) > 2:
                raise SynonymsError(f"{where}: more than one '=>'")
            sides = [self._terms(part, where) for part in parts]
            if len(sides) == 2:
                for left in sides[0]:
                    self._link(left, sides[1])
            else:
                if len(sides[0]) < 2:
                    raise SynonymsError(f"{where}: one term alone; write two or more, separated by commas")
                for term in sides[0]:
                    self._link(term, sides[0])

    def _terms(self, part: str, where: str) -> list[str]:
        terms = []
        for raw in _SEPARATOR.split(part):
            raw = "".join(raw.split())
            if not raw:
                raise SynonymsError(f"{where}: an empty term")
            if len(raw) > MAX_TERM:
                raise SynonymsError(f"{where}: a term is longer than {MAX_TERM} characters: {raw[:20]}…")
            tokens = query_tokens(raw)
            if not tokens:
                raise SynonymsError(f"{where}: the term {raw!r} has no word search could match")
            key = "".join(tokens)
            self._words.setdefault(key, _words_of(tokens))
            terms.append(key)
        return terms

    def _link(self, term: str, others: Sequence[str]) -> None:
        found = self.rules.setdefault(term, [])
        for other in others:
            if other != term and other not in found:
                found.append(other)

    def __len__(self) -> int:
        return len(self.rules)

    def terms(self, query: str) -> list[Term]:
        """A query's terms: its tokens, where a run of tokens that spells a term of the dictionary
        (the longest first) is one term with the alternatives the dictionary gives, and any other
        token a term of its own. A token the dictionary does not hold is looked up by the words it is
        matched by (:func:`match_words`: 工商登记 by 工商 and 登记). Only whole words are taken: 医保
        is not looked for inside 中医保健, which jieba reads as 中医 / 保健."""
        tokens = query_tokens(query)
        terms: list[Term] = []
        seen: set[tuple[tuple[str, ...], ...]] = set()
        at = 0
        while at < len(tokens) and len(terms) < MAX_TERMS:
            start, span, others = at, tokens[at], None
            for end in range(min(len(tokens), at + MAX_SPAN), at, -1):
                joined = "".join(tokens[at:end])
                if joined in self.rules:
                    span, others, at = joined, self.rules[joined], end
                    break
            else:
                parts = match_words(span)
                if len(parts) > 1 and any(part in self.rules for part in parts):
                    tokens[at : at + 1] = parts
                    continue
                at += 1
            alternatives = [_words_of(tokens[start:at])]
            for other in (others or [])[: MAX_ALTERNATIVES - 1]:
                words = self._words[other]
                if words and words not in alternatives:
                    alternatives.append(words)
            key = tuple(tuple(a) for a in alternatives if a)
            if key and key not in seen:
                seen.add(key)
                terms.append(Term(text=span, alternatives=key))
        return terms

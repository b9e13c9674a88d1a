"""Chinese words for search and for comparing names: jieba's segmentation, and the normal forms of names.

Search matches words, not characters: a document's words are jieba's search-mode segmentation of its
text (``气象观测数据`` gives 气象, 观测, 气象观测, 数据), and a query matches when every word of the
query's own segmentation is among them. So 医保 finds ``医保结算明细`` and not ``中医保健服务``
(segmented 中医 / 保健), which a character or bigram match would.

Search folds traditional characters to simplified ones (:func:`fold`, OpenCC's ``t2s`` conversion)
in the indexed text and in the query alike, so 氣象 finds 气象. A query word longer than two characters
is matched by the parts it is made of when jieba has them (:func:`match_words`): 医疗保障 matches a
document that holds 医疗 and 保障, as ``南京市医疗保障局`` (segmented 南京市 / 医疗 / 保障局) does.

Names are compared in a normal form (:func:`name_key`): NFKC (full-width letters and digits become
ASCII), lower case, no spaces or punctuation, and without the generic endings that say nothing about
which data it is (数据, 数据集, 信息, 资源, 目录, 库, 表): ``全省企业登记信息`` and
``全省企业登记数据集`` have the same key.
"""

from __future__ import annotations

import functools
import logging
import re
import threading
import unicodedata
from collections.abc import Iterable

import jieba  # type: ignore[import-untyped]
import opencc

__all__ = [
    "fold",
    "match_words",
    "name_key",
    "name_parts",
    "name_similarity",
    "query_spans",
    "query_tokens",
    "query_words",
    "search_text",
    "text_words",
    "warm",
    "words_of",
]

jieba.setLogLevel(logging.WARNING)
_ready = threading.Lock()
_initialised = False
#: OpenCC's converter from traditional to simplified characters (phrases first, then characters).
_converter: opencc.OpenCC | None = None

#: Words that carry no meaning for search on their own.
STOP_WORDS = frozenset("的 和 与 及 或 等 之 在 按 对 为 了 是 年 月 日".split())
#: Endings removed from a name's normal form, longest first.
GENERIC_ENDINGS = ("数据资源", "数据集", "数据库", "数据", "信息", "资源", "目录", "清单", "库", "表")
#: Words a document keeps at most (a summary is bounded, but the index should be too).
MAX_WORDS = 200


def _init() -> None:
    global _initialised, _converter
    if _initialised:
        return
    with _ready:
        if not _initialised:
            jieba.initialize()
            _converter = opencc.OpenCC("t2s")
            _initialised = True


def warm() -> None:
    """Load jieba's dictionary now (half a second), not on the first registration that needs it."""
    _init()


def fold(text: str) -> str:
    """``text`` with traditional characters as simplified ones (OpenCC ``t2s``: 氣象觀測 → 气象观测;
    simplified text is left as it is)."""
    _init()
    assert _converter is not None
    return str(_converter.convert(text)) if text else text


def _keep(word: str) -> bool:
    return bool(word) and word not in STOP_WORDS and any(c.isalnum() for c in word)


def _normal(text: str) -> str:
    return unicodedata.normalize("NFKC", text).lower()


def search_text(text: str) -> str:
    """The form of a text that search segments: NFKC, lower case, simplified characters."""
    return fold(_normal(text))


@functools.lru_cache(maxsize=65536)
def _piece(text: str) -> tuple[str, ...]:
    """One text's words in search mode. Remembered: subject names, data types and application
    scenarios repeat across many registrations (and across the changes of one)."""
    return tuple(
        word
        for word in (w.strip() for w in jieba.cut_for_search(search_text(text), HMM=False))
        if _keep(word)
    )


def words_of(texts: Iterable[str]) -> list[str]:
    """The distinct words of some texts in search mode (every word and the shorter words within it),
    in order of first appearance, at most :data:`MAX_WORDS`."""
    _init()
    seen: dict[str, None] = {}
    for text in texts:
        for word in _piece(text):
            if word not in seen:
                seen[word] = None
                if len(seen) >= MAX_WORDS:
                    return list(seen)
    return list(seen)


def text_words(text: str) -> list[str]:
    return words_of([text])


def query_tokens(query: str) -> list[str]:
    """A query's segmentation in accurate mode (the longest words), in its search form
    (:func:`search_text`), with stop words and punctuation left out."""
    return [word for word, _, _ in query_spans(query)[1]]


def query_spans(query: str) -> tuple[str, list[tuple[str, int, int]]]:
    """A query in its search form, and its :func:`query_tokens` with where each stands in it
    (word, start, end)."""
    _init()
    text = search_text(query)
    return text, [(w, start, end) for w, start, end in jieba.tokenize(text, HMM=False) if _keep(w.strip())]


@functools.lru_cache(maxsize=16384)
def match_words(word: str) -> tuple[str, ...]:
    """The words a document must hold to match ``word`` (in its search form): the word itself, or,
    when it is longer than two characters and jieba's search mode knows words that tile it, those
    words (医疗保障: 医疗, 保障; 空气质量: 空气, 质量; 不动产 stays, its parts 不动 and 动产 overlap).

    A document indexed in search mode holds the parts of every long word it has, so this finds all it
    found before, and also a document where the word stands across two of jieba's words
    (南京市医疗保障局: 南京市 / 医疗 / 保障局)."""
    if len(word) <= 2 or not all("\u3400" <= c <= "\u9fff" for c in word):
        return (word,)
    _init()
    parts = {p for p in jieba.cut_for_search(word, HMM=False) if 2 <= len(p) < len(word)}
    # The tiling with the fewest parts (a short word has few: a breadth-first walk over positions).
    best: dict[int, tuple[str, ...]] = {0: ()}
    for at in range(len(word)):
        if at not in best:
            continue
        for part in parts:
            end = at + len(part)
            if word.startswith(part, at) and (end not in best or len(best[end]) > len(best[at]) + 1):
                best[end] = (*best[at], part)
    return best.get(len(word), (word,))


def query_words(query: str, *, limit: int = 8) -> list[str]:
    """The words a query must all match (without synonyms): the :func:`match_words` of each of its
    :func:`query_tokens`, without repeats, at most ``limit``."""
    words: list[str] = []
    for token in query_tokens(query):
        for word in match_words(token):
            if word not in words:
                words.append(word)
    return words[:limit]


@functools.lru_cache(maxsize=65536)
def name_key(name: str) -> str:
    """The normal form of a data or subject name, for finding the same name written another way."""
    key = "".join(c for c in _normal(name) if c.isalnum())
    changed = True
    while changed and key:
        changed = False
        for ending in GENERIC_ENDINGS:
            if key.endswith(ending) and len(key) > len(ending):
                key = key[: -len(ending)]
                changed = True
                break
    return key


# -- similarity of data names (duplicate detection, :mod:`national_node.duplicates`) ------------------

#: Leading words that name the subject's own whole area rather than a place: they match any place.
WHOLE_AREA = ("全国", "全省", "全市", "全区", "全县", "本省", "本市")
#: Endings of a place name left out when two places are compared (南京市 and 南京 are one place).
PLACE_ENDINGS = ("特别行政区", "自治区", "自治州", "自治县", "省", "市", "区", "县", "州", "盟", "旗")
#: Endings that say nothing about which data it is, besides :data:`GENERIC_ENDINGS` (similarity only).
RECORD_ENDINGS = ("记录", "统计")
#: A token of a name: a run of ASCII letters and digits (``gps``, ``12345``) or one other character.
_TOKEN = re.compile(r"[a-z0-9]+|.", re.DOTALL)


def _strip_endings(key: str, endings: tuple[str, ...]) -> str:
    changed = True
    while changed:
        changed = False
        for ending in endings:
            if key.endswith(ending) and len(key) > len(ending):
                key = key[: -len(ending)]
                changed = True
                break
    return key


@functools.lru_cache(maxsize=65536)
def name_parts(name: str) -> tuple[str, str]:
    """(place, rest) of a data name: the place it starts with, in a normal form (``南京市公交刷卡数据``:
    ``南京``; ``*`` for the whole area, 全省, 全市 ...; "" when it names none), by jieba's part-of-speech
    tag ``ns`` of its first word; and the rest of its :func:`name_key` without
    :data:`RECORD_ENDINGS` (``公交刷卡``)."""
    key = name_key(name)
    place, rest = "", key
    for whole in WHOLE_AREA:
        if key.startswith(whole):
            place, rest = "*", key[len(whole) :]
            break
    else:
        _init()
        import jieba.posseg  # type: ignore[import-untyped]  # here: its tables take 0.3 s to load

        first = next(iter(jieba.posseg.cut(key, HMM=False)), None)
        if first is not None and first.flag == "ns" and len(first.word) < len(key):
            place, rest = first.word, key[len(first.word) :]
            for ending in PLACE_ENDINGS:
                if place.endswith(ending) and len(place) > len(ending) + 1:
                    place = place[: -len(ending)]
                    break
    rest = _strip_endings(rest, GENERIC_ENDINGS + RECORD_ENDINGS)
    return place, rest or key


def name_similarity(a: str, b: str) -> float:
    """How similar two data names are, 0..1: 1.0 for the same :func:`name_key`; 0.0 when they start
    with two different places (南京市 and 南通市: other data); otherwise the Jaccard index of the token
    sets (characters, a run of ASCII letters or digits as one) of the rest of each
    (:func:`name_parts`). Characters rather than words, because an abbreviation keeps characters of
    the full form (公交 of 公共交通, 社保 of 社会保险) while jieba segments the two differently."""
    if name_key(a) == name_key(b):
        return 1.0
    (place_a, rest_a), (place_b, rest_b) = name_parts(a), name_parts(b)
    if place_a and place_b and "*" not in (place_a, place_b) and place_a != place_b:
        return 0.0
    tokens_a, tokens_b = set(_TOKEN.findall(rest_a)), set(_TOKEN.findall(rest_b))
    union = tokens_a | tokens_b
    return len(tokens_a & tokens_b) / len(union) if union else 0.0

"""The synonym dictionary: its format, its mistakes, and how a query's terms take their synonyms."""

from __future__ import annotations

from pathlib import Path

import pytest

from national_node.synonyms import SHIPPED, Synonyms, SynonymsError


def terms_of(synonyms: Synonyms, query: str) -> list[tuple[str, list[str]]]:
    """Each term of ``query``: its text and its alternatives, each as the words joined."""
    return [(t.text, ["".join(a) for a in t.alternatives]) for t in synonyms.terms(query)]


def test_equivalent_terms_find_each_other_and_one_way_rules_only_one_way() -> None:
    synonyms = Synonyms()
    synonyms.add(["医保, 医疗保障  # 注释", "", "医院 => 医疗机构"])
    assert terms_of(synonyms, "医保") == [("医保", ["医保", "医疗保障"])]
    assert terms_of(synonyms, "医疗保障") == [("医疗保障", ["医疗保障", "医保"])]
    assert terms_of(synonyms, "医院") == [("医院", ["医院", "医疗机构"])]
    assert terms_of(synonyms, "医疗机构") == [("医疗机构", ["医疗机构"])]


def test_terms_are_read_as_search_reads_words() -> None:
    synonyms = Synonyms()
    synonyms.add(["醫保，醫療 保障", "ＧＤＰ, 地区生产总值"])  # traditional, a full-width comma, a space
    assert terms_of(synonyms, "医保") == [("医保", ["医保", "医疗保障"])]
    assert terms_of(synonyms, "gdp") == [("gdp", ["gdp", "地区生产总值"])]


def test_only_whole_words_of_a_query_take_synonyms() -> None:
    synonyms = Synonyms.load()
    # 中医保健 holds the characters 医保 but jieba reads it 中医 / 保健.
    assert all(not t.expanded for t in synonyms.terms("中医保健"))
    # A word the dictionary does not hold is looked up by its parts (工商登记: 工商, 登记).
    assert [t.text for t in synonyms.terms("工商登记") if t.expanded] == ["工商"]
    # The longest term of the dictionary first: 住房公积金, not 公积金.
    assert synonyms.terms("住房公积金")[0].text == "住房公积金"


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ("医保", "one term alone"),
        ("医保, , 医疗保障", "an empty term"),
        ("甲 => 乙 => 丙", "more than one '=>'"),
        ("医保, " + "长" * 41, "longer than 40 characters"),
        ("医保, ！！", "no word search could match"),
    ],
)
def test_a_line_that_cannot_be_read_names_the_file_and_the_line(line: str, problem: str) -> None:
    with pytest.raises(SynonymsError, match=rf"mine\.txt, line 2: .*{problem}"):
        Synonyms().add(["# 首行", line], source="mine.txt")


def test_an_operators_file_adds_to_the_shipped_dictionary(tmp_path: Path) -> None:
    mine = tmp_path / "synonyms.txt"
    mine.write_text("# 本地简称\n苏康码, 江苏健康码\n医保, 医保电子凭证\n", encoding="utf-8")
    synonyms = Synonyms.load(mine)
    assert terms_of(synonyms, "苏康码")[0][1] == ["苏康码", "江苏健康码"]
    # The shipped rule of 医保 stays, the operator's adds to it.
    assert {"医疗保障", "医保电子凭证"} <= set(terms_of(synonyms, "医保")[0][1])
    with pytest.raises(SynonymsError, match="cannot be read"):
        Synonyms.load(tmp_path / "missing.txt")


def test_the_shipped_dictionary_reads_and_has_the_common_abbreviations() -> None:
    synonyms = Synonyms.load()
    pairs = [("医保", "医疗保障"), ("社保", "社会保险"), ("公交", "公共交通"), ("公积金", "住房公积金")]
    for short, full in pairs:
        assert full in terms_of(synonyms, short)[0][1], short
    assert SHIPPED.read_text(encoding="utf-8").startswith("#")

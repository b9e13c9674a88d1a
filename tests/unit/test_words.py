"""Chinese words for search: jieba's segmentation, as the index and the queries use it."""

from __future__ import annotations

import pytest

from national_node.words import MAX_WORDS, fold, match_words, name_key, query_words, words_of


@pytest.mark.parametrize(
    ("text", "word"),
    [
        ("江苏省逐小时地面气象观测数据", "气象"),
        ("南京市医保结算明细数据", "医保"),
        ("全省道路交通流量实时监测数据", "交通"),
        ("苏州市公共交通刷卡记录", "公共交通"),
    ],
)
def test_a_two_character_word_inside_a_longer_one_is_a_word_of_the_text(text: str, word: str) -> None:
    assert word in words_of([text])


def test_a_word_across_two_words_is_not_a_word_of_the_text() -> None:
    # 中医保健 is 中医 + 保健: it holds the characters 医保 but not the word.
    assert "医保" not in words_of(["全省中医保健服务机构名录"])
    assert {"中医", "保健"} <= set(words_of(["全省中医保健服务机构名录"]))


def test_a_query_is_its_words_without_punctuation_stop_words_or_repeats() -> None:
    assert query_words("江苏 气象") == ["江苏", "气象"]
    assert query_words("医保，的 医保！") == ["医保"]
    assert query_words("   ") == []
    assert query_words("ＣＳＶ 数据") == ["csv", "数据"]  # full-width letters are letters


def test_a_document_keeps_a_bounded_number_of_words() -> None:
    long = "".join(f"第{i}类气象观测站点" for i in range(2000))
    assert len(words_of([long])) == MAX_WORDS


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("全省企业登记信息", "全省企业登记数据集"),
        ("南京市 公交 刷卡数据", "南京市公交刷卡"),
        ("ＡＢＣ数据资源", "abc"),
    ],
)
def test_names_written_another_way_have_the_same_key(a: str, b: str) -> None:
    assert name_key(a) == name_key(b)


def test_a_generic_ending_alone_is_kept() -> None:
    assert name_key("数据") == "数据"


# -- as people write ---------------------------------------------------------------------------------


def test_traditional_characters_are_read_as_simplified_in_documents_and_queries() -> None:
    assert fold("氣象觀測數據") == "气象观测数据"
    assert fold("气象观测数据") == "气象观测数据"  # simplified text is left as it is
    assert {"气象", "观测"} <= set(words_of(["江蘇省逐小時地面氣象觀測數據"]))
    assert query_words("氣象 觀測") == ["气象", "观测"]


@pytest.mark.parametrize(
    ("word", "parts"),
    [
        ("医疗保障", ("医疗", "保障")),
        ("空气质量", ("空气", "质量")),
        ("气象观测", ("气象", "观测")),
        ("不动产", ("不动产",)),  # its parts 不动 and 动产 overlap: the word itself
        ("医保", ("医保",)),
        ("csv", ("csv",)),
    ],
)
def test_a_long_query_word_is_matched_by_the_parts_it_is_made_of(word: str, parts: tuple[str, ...]) -> None:
    assert match_words(word) == parts


def test_a_long_word_across_two_of_a_documents_words_is_found_by_its_parts() -> None:
    # jieba reads 南京市医疗保障局 as 南京市 / 医疗 / 保障局: the word 医疗保障 is not among its words,
    # but its parts are.
    document = set(words_of(["南京市医疗保障局"]))
    assert "医疗保障" not in document
    assert set(query_words("医疗保障")) <= document

"""Corrections from the vocabulary of names: one edit away, homophones first."""

from __future__ import annotations

from national_node.spelling import Vocabulary, homophones, readings


def vocabulary(*words: str) -> Vocabulary:
    found = Vocabulary()
    found.extend(enumerate(words, start=1))
    return found


def test_pinyin_readings_without_tones() -> None:
    assert readings("象") == {"xiang"}
    assert "hang" in readings("行") and "xing" in readings("行")
    assert homophones("像", "象") and not homophones("像", "压")
    assert readings("a") == frozenset()


def test_a_homophone_typed_for_a_character_is_corrected() -> None:
    words = vocabulary("气象", "气压", "观测", "公积金")
    assert [c.word for c in words.candidates("气像")] == ["气象"]  # 气压 is one edit too, not a homophone
    assert [c.word for c in words.candidates("公基金")] == ["公积金"]


def test_a_two_character_word_is_not_corrected_to_a_word_that_merely_shares_a_character() -> None:
    words = vocabulary("气压", "空气")
    assert words.candidates("气像") == []


def test_longer_words_take_any_one_edit_homophones_first() -> None:
    words = vocabulary("空气质量", "空气治理", "气象观测", "气象观测站")
    assert [c.word for c in words.candidates("空汽质量")] == ["空气质量"]
    assert [c.word for c in words.candidates("气象观")] == ["气象观测"]  # a character left out
    assert [c.word for c in words.candidates("气象观测站点")] == ["气象观测站"]  # one too many
    found = words.candidates("空气质理")
    assert [c.word for c in found] == ["空气治理", "空气质量"] and found[0].rank == 0


def test_words_in_the_vocabulary_are_not_corrected_and_the_vocabulary_is_bounded() -> None:
    words = vocabulary("气象", "气像")
    assert words.candidates("气像") == []
    small = Vocabulary(limit=2)
    small.extend([(1, "气象"), (2, "观测"), (3, "空气")])
    assert len(small) == 2 and "空气" not in small and small.last_id == 3

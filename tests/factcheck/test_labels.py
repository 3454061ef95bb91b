"""The one table of labels: every verdict label and every stance has its row, and the rows do
not collide where a front tells them apart."""

from __future__ import annotations

from factcheck.labels import LEAN_MARK, STANCES, VERDICTS, Label, Stance, mark, word
from factcheck.models import Label as ModelLabel
from factcheck.models import Stance as ModelStance


def test_every_label_and_every_stance_has_a_row():
    assert set(VERDICTS) == set(Label)
    assert set(STANCES) == set(Stance)


def test_the_models_types_are_the_tables_enums():
    assert ModelLabel is Label and ModelStance is Stance


def test_words_marks_and_button_codes_tell_the_labels_apart():
    looks = VERDICTS.values()
    for field in ("word", "mark", "code", "colour"):
        assert len({getattr(look, field) for look in looks}) == len(Label), field
    assert LEAN_MARK not in {look.mark for look in looks}
    assert all(len(look.code) == 1 for look in looks)  # callback data stays short


def test_a_lean_is_spelt_once_for_every_label():
    for label in Label:
        assert word(label, lean=True) == f"leans {word(label)}"
        assert mark(label, lean=True) == LEAN_MARK


def test_each_verdict_maps_to_a_stance_the_eval_files_know_or_to_none():
    assert VERDICTS[Label.SUPPORTED].stance is Stance.SUPPORTS
    assert VERDICTS[Label.CONTRADICTED].stance is Stance.REFUTES
    assert VERDICTS[Label.NOT_ENOUGH_EVIDENCE].stance is Stance.NOT_ENOUGH_INFO
    assert VERDICTS[Label.MIXED].stance is None
    assert all(set(look.decided_by) <= set(Stance) for look in VERDICTS.values())

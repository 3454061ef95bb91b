import pytest

from factcheck.sentences import sentences, split_sentences


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("One. Two!  Three?", ["One.", "Two!", "Three?"]),
        ("Dr. Smith met U.S. officials. They agreed.", ["Dr. Smith met U.S. officials.", "They agreed."]),
        ("p < 0.05 in 3.5% of cases. Next.", ["p < 0.05 in 3.5% of cases.", "Next."]),
        ("Headline\n\nBody text here.", ["Headline", "Body text here."]),
        ("“Quoted,” he said. Then left.", ["“Quoted,” he said.", "Then left."]),
        ("", []),
    ],
)
def test_sentences(text, expected):
    assert sentences(text) == expected


def test_spans_index_the_text():
    text = "  First one.   Second one.  "
    assert [text[s:e] for s, e in split_sentences(text)] == ["First one.", "Second one."]

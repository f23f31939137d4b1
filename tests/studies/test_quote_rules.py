"""The rules on quotes and summaries, as pure functions over text (no database)."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from studies.models import validate_one_sentence, word_count
from studies.sources import is_whole_sentences, occurrences, source_text

SOURCE = source_text("vederhus-2020.txt")


def test_a_quote_cut_mid_sentence_is_not_whole_sentences():
    assert not is_whole_sentences("can be liberating. For me it", SOURCE)


def test_a_quote_of_whole_sentences_inside_a_block_quote_is():
    assert is_whole_sentences(
        "For some, doing the fifth step with a sponsor can be liberating. For me it wasn\u2019t.",
        SOURCE,
    )


def test_a_block_quote_run_on_from_the_sentence_introducing_it_starts_a_sentence():
    # "Per described a similar experience:I was very proud …" in the source.
    assert is_whole_sentences(
        "I was very proud when I had 30 drug-free days, but then I had a lapse on alcohol.",
        SOURCE,
    )
    assert is_whole_sentences(
        "It\u2019s about getting to know yourself: your values and your dreams.", SOURCE
    )


def test_a_quote_after_an_opening_quotation_mark_ends_at_the_closing_one():
    assert is_whole_sentences("they hinge everything on addiction", SOURCE)
    assert is_whole_sentences("“they hinge everything on addiction”", SOURCE)
    assert not is_whole_sentences("they hinge everything", SOURCE)


def test_an_apostrophe_inside_a_word_is_not_a_closing_quotation_mark():
    assert occurrences("For me it wasn", SOURCE)
    assert not is_whole_sentences("For me it wasn", SOURCE)


def test_a_trailing_insertion_of_the_authors_does_not_end_the_sentence_early():
    # "… [i.e., “an addict alone is in bad company”](Arne)" in the source.
    text = "By yourself, you are in bad company… [i.e., “an addict alone is in bad company”]"
    assert is_whole_sentences(text, SOURCE)


def test_a_quote_must_start_where_a_sentence_starts():
    assert not is_whole_sentences("not right to be happy.", SOURCE)
    # After an ellipsis and a space a sentence may start: "It was like … it was not right".
    assert is_whole_sentences("it was not right to be happy.", SOURCE)


def test_text_not_in_the_source_is_not_whole_sentences_of_it():
    assert not is_whole_sentences("I made this up entirely.", SOURCE)


@pytest.mark.parametrize(
    "summary",
    [
        "A patient who may slip should know the count restarts at zero.",
        "Consider groups with dialogue, e.g. a user organisation, for this patient.",
        "Does the patient want a group that counts clean time?",
    ],
)
def test_a_one_sentence_summary_is_accepted(summary):
    validate_one_sentence(summary)


@pytest.mark.parametrize(
    "summary",
    [
        "Some patients slip. The count then restarts at zero.",
        "Some patients slip! Others do not.",
        "A summary without its full stop",
    ],
)
def test_a_summary_of_more_or_less_than_one_sentence_is_refused(summary):
    with pytest.raises(ValidationError) as caught:
        validate_one_sentence(summary)
    assert "summary" in caught.value.messages[0]


def test_words_are_counted_without_punctuation():
    assert word_count("“more than” or “different from”") == 5
    assert word_count("There\u2019s nothing wrong") == 3
    assert word_count("NA way") == 2

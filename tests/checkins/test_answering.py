"""Moving through a form on the assignment (bot/checkins/answering.py `Progress`): the next
relevant question, skipping, going back, the review, changing one answer and coming back."""
from __future__ import annotations

from datetime import date

from bot.checkins.answering import Progress
from bot.checkins.form_files import load_yaml
from bot.checkins.models import CheckinAssignment

FORM = load_yaml("""
settings: {form_id: shelter}
survey:
  - {type: select_one yn, name: open, label: "Open?", required: true}
  - {type: integer, name: beds, label: "Free beds?", relevant: "${open} = 'yes'", required: true}
  - {type: text, name: note, label: "Anything else?"}
choices:
  yn: [{name: "yes", label: "Yes"}, {name: "no", label: "No"}]
""")
TODAY = date(2026, 3, 2)


def progress() -> Progress:
    assignment = CheckinAssignment(draft={}, current=FORM.first_question({}), confirming=False)
    return Progress(FORM, assignment)


def test_answers_move_to_the_next_relevant_question_then_to_the_review():
    person = progress()
    assert person.answer("yes", "en", TODAY, returning=False) is None
    assert person.question.name == "beds"
    assert person.answer("12", "en", TODAY, returning=False) is None
    assert person.question.name == "note" and not person.reviewing
    assert person.answer("All fine", "en", TODAY, returning=False) is None
    assert person.reviewing
    assert person.draft == {"open": "yes", "beds": 12, "note": "All fine"}


def test_a_question_made_irrelevant_is_passed_over():
    person = progress()
    person.answer("no", "en", TODAY, returning=False)
    assert person.question.name == "note"
    assert person.relevant_indexes() == [0, 2]


def test_a_refused_answer_changes_nothing():
    person = progress()
    person.answer("yes", "en", TODAY, returning=False)
    problem = person.answer("many", "en", TODAY, returning=False)
    assert problem and "whole number" in problem
    assert person.question.name == "beds" and person.draft == {"open": "yes"}


def test_skip_leaves_an_optional_question_empty_but_not_a_required_one():
    person = progress()
    assert person.skip(returning=False) == "This question needs an answer."
    assert person.question.name == "open" and person.draft == {}
    person.answer("no", "en", TODAY, returning=False)
    assert person.skip(returning=False) is None
    assert person.reviewing and person.draft == {"open": "no", "note": None}


def test_back_goes_to_the_previous_question_asked_and_stops_at_the_first():
    person = progress()
    assert not person.back()
    person.answer("no", "en", TODAY, returning=False)
    assert person.back() and person.question.name == "open"


def test_leaving_the_review_shows_the_last_question_asked():
    person = progress()
    for text in ["no", "fine"]:
        person.answer(text, "en", TODAY, returning=False)
    person.leave_review()
    assert not person.reviewing and person.question.name == "note"


def test_changing_one_answer_returns_to_the_review_or_to_what_it_now_requires():
    person = progress()
    for text in ["no", "fine"]:
        person.answer(text, "en", TODAY, returning=False)
    assert person.changeable() == [0, 2]
    assert not person.change(3)
    assert person.change(2) and person.question.name == "note" and not person.reviewing
    person.answer("still fine", "en", TODAY, returning=True)
    assert person.reviewing
    person.change(1)
    person.answer("yes", "en", TODAY, returning=True)  # now the beds question is asked
    assert person.question.name == "beds" and not person.reviewing
    person.answer("3", "en", TODAY, returning=True)
    assert person.reviewing


def test_a_submission_keeps_only_the_answers_still_relevant():
    assert FORM.relevant_answers({"open": "no", "beds": 4, "note": "x"}) == {
        "open": "no", "note": "x"}
    assert FORM.next_missing({"open": "yes", "note": "x"}) == 1

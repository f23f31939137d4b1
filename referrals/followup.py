"""Follow-ups of a referral: the checkpoints, the coded reasons for disengaging,
and the outcome a referral's follow-ups add up to.

The reasons are the codes of the Norwegian study of people who stopped going to
NA (Vederhus et al. 2020, Table 3), grouped under its three final themes, so that
a supervisor sees disengagement in the words of the evidence the menu rests on.
Each code is also a theme key in the shipped studies data.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import models
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

STUDY = "vederhus-2020"


class Checkpoint(models.TextChoices):
    FIRST_MEETING = "first_meeting", _("First meeting")
    ONE_MONTH = "one_month", _("One month")
    THREE_MONTHS = "three_months", _("Three months")


class Outcome(models.TextChoices):
    ATTENDED = "attended", _("Attended a first meeting")
    NOT_ATTENDED = "not_attended", _("Did not attend")
    ENGAGED = "engaged", _("Still engaged")
    DISENGAGED = "disengaged", _("Disengaged")


# Which outcomes each checkpoint can record.
OUTCOMES: dict[str, tuple[str, ...]] = {
    Checkpoint.FIRST_MEETING: (Outcome.ATTENDED, Outcome.NOT_ATTENDED),
    Checkpoint.ONE_MONTH: (Outcome.ENGAGED, Outcome.DISENGAGED),
    Checkpoint.THREE_MONTHS: (Outcome.ENGAGED, Outcome.DISENGAGED),
}

# When each checkpoint falls due, counted from the day of the referral.
DUE_AFTER: dict[str, datetime.timedelta] = {
    Checkpoint.FIRST_MEETING: datetime.timedelta(days=14),
    Checkpoint.ONE_MONTH: datetime.timedelta(days=30),
    Checkpoint.THREE_MONTHS: datetime.timedelta(days=91),
}


@dataclass(frozen=True)
class ReasonTheme:
    key: str
    label: str | Promise
    codes: tuple[tuple[str, str | Promise], ...]


OTHER_THEME = "other"

REASON_THEMES: tuple[ReasonTheme, ...] = (
    ReasonTheme(
        "model-does-not-fit",
        _("The model did not fit"),
        (
            (
                "difficulty-with-strategy",
                _("Difficulty with the strategy: meeting format, sharing, step work"),
            ),
            (
                "double-trouble",
                _("Double trouble: trauma or psychiatric comorbidity needed something more"),
            ),
            (
                "perceived-negative-focus",
                _("Negative focus: powerlessness, defects of character"),
            ),
            ("everything-hinged-on-addiction", _("Everything hinged on addiction")),
            ("na-only-solution", _("The group presented as the only solution")),
        ),
    ),
    ReasonTheme(
        "negative-experiences-spurred-frustration",
        _("Negative experiences"),
        (
            ("negative-experiences-with-sponsor", _("Negative experiences with a sponsor")),
            ("anonymity-breaches", _("Anonymity breaches")),
            ("conformity-pressure", _("Conformity pressure")),
            ("criticism-not-welcomed", _("Criticism not welcomed")),
            (
                "seasoned-members-not-living-as-they-teach",
                _("Seasoned members not living as they teach"),
            ),
            ("not-living-up-to-success-criteria", _("Could not live up to the success criteria")),
            ("relapse-and-negative-emotions", _("Relapse and negative emotions")),
        ),
    ),
    ReasonTheme(
        "safe-place-can-become-cage",
        _("Life ought to be more than the group"),
        (
            ("natural-course-of-disengagement", _("A natural course of moving on")),
            ("no-additional-benefits", _("Going on brought no further benefit")),
            ("participation-limits-quality-of-life", _("Taking part limited quality of life")),
            ("ambivalence-about-breaking-out", _("Felt stuck, ambivalent about breaking out")),
        ),
    ),
    ReasonTheme(
        OTHER_THEME,
        _("Other reasons"),
        (
            ("practical-barriers", _("Practical barriers: distance, meeting times, transport")),
            ("other", _("Other")),
        ),
    ),
)

REASON_CHOICES: list[tuple[str, str | Promise]] = [
    code for theme in REASON_THEMES for code in theme.codes
]
THEME_OF: dict[str, str] = {code: theme.key for theme in REASON_THEMES for code, _l in theme.codes}
THEME_LABELS: dict[str, str | Promise] = {theme.key: theme.label for theme in REASON_THEMES}
REASON_LABELS: dict[str, str | Promise] = dict(REASON_CHOICES)


def theme_expression(code: str) -> models.Case:
    """The theme of the reason code in the column `code`, in SQL."""
    return models.Case(
        *[
            models.When(
                **{f"{code}__in": [c for c, _label in theme.codes]}, then=models.Value(theme.key)
            )
            for theme in REASON_THEMES
        ],
        output_field=models.CharField(),
    )


@dataclass(frozen=True)
class Recorded:
    """One recorded follow-up, as far as the outcome is concerned."""

    checkpoint: str
    outcome: str


@dataclass(frozen=True)
class Status:
    """What a referral's follow-ups add up to, stored on the referral for dashboards."""

    attended: bool | None = None
    engaged_one_month: bool | None = None
    engaged_three_months: bool | None = None
    disengaged: bool = False
    next_checkpoint: str | None = None

    @property
    def closed(self) -> bool:
        return self.next_checkpoint is None


def status(follow_ups: Iterable[Recorded], *, chosen: bool) -> Status:
    """The outcome so far and the next checkpoint due; None once nothing more is due.

    Not attending or disengaging closes the referral; so does the three-month
    follow-up. A later checkpoint speaks for the earlier ones: still engaged at three
    months means the patient went and was engaged at one month.
    """
    by_checkpoint = {f.checkpoint: f.outcome for f in follow_ups}
    if not chosen and not by_checkpoint:
        return Status()
    first = by_checkpoint.get(Checkpoint.FIRST_MEETING)
    one = by_checkpoint.get(Checkpoint.ONE_MONTH)
    three = by_checkpoint.get(Checkpoint.THREE_MONTHS)
    if first == Outcome.NOT_ATTENDED:
        return Status(attended=False)
    if Outcome.DISENGAGED in (one, three):
        return Status(
            attended=True,
            engaged_one_month=one != Outcome.DISENGAGED if one else None,
            engaged_three_months=False,
            disengaged=True,
        )
    if three == Outcome.ENGAGED:
        return Status(attended=True, engaged_one_month=True, engaged_three_months=True)
    if one == Outcome.ENGAGED:
        return Status(
            attended=True, engaged_one_month=True, next_checkpoint=Checkpoint.THREE_MONTHS
        )
    if first == Outcome.ATTENDED:
        return Status(attended=True, next_checkpoint=Checkpoint.ONE_MONTH)
    return Status(next_checkpoint=Checkpoint.FIRST_MEETING)


def due_on(referred_on: datetime.date, checkpoint: str | None) -> datetime.date | None:
    return referred_on + DUE_AFTER[checkpoint] if checkpoint else None


def contradiction(follow_ups: Iterable[Recorded]) -> str | Promise | None:
    """Why these follow-ups cannot all be true, or None."""
    by_checkpoint = {f.checkpoint: f.outcome for f in follow_ups}
    later = [by_checkpoint.get(Checkpoint.ONE_MONTH), by_checkpoint.get(Checkpoint.THREE_MONTHS)]
    if by_checkpoint.get(Checkpoint.FIRST_MEETING) == Outcome.NOT_ATTENDED and any(later):
        return _(
            "The first-meeting follow-up says the patient did not attend, so there can be "
            "no later follow-up. Correct the first-meeting follow-up first."
        )
    if later[0] == Outcome.DISENGAGED and later[1]:
        return _(
            "The patient disengaged by one month, so there is no three-month follow-up. "
            "Correct the one-month follow-up first, or save a new referral."
        )
    return None


# How long before a checkpoint falls due a contact may show the patient still engaged.
ENGAGED_EARLY_BY = datetime.timedelta(days=7)


def timing_problem(
    checkpoint: str,
    outcome: str,
    *,
    referred_on: datetime.date,
    today: datetime.date,
    contacted_on: datetime.date | None,
) -> dict[str, str | Promise] | None:
    """Why a follow-up cannot be recorded today, by field, or None.

    A checkpoint speaks of a time: before it falls due, only a contact with the patient
    can tell how it turned out, so the counsellor gives that contact's date. A first
    meeting attended rests on its own date. Still engaged rests on a contact in the
    week before the checkpoint falls due at the earliest; not attending or disengaging
    can be known on any day.
    """
    if contacted_on is not None:
        if contacted_on > today:
            return {"contacted_on": _("The date of the contact cannot be in the future.")}
        if contacted_on < referred_on:
            return {"contacted_on": _("The contact cannot be before the referral.")}
    due = referred_on + DUE_AFTER[checkpoint]
    if today >= due or (checkpoint == Checkpoint.FIRST_MEETING and outcome == Outcome.ATTENDED):
        return None
    if contacted_on is None:
        return {
            "contacted_on": _(
                "This follow-up falls due on %(due)s. To record it before then, give the "
                "date of the contact it rests on."
            )
            % {"due": due.isoformat()}
        }
    earliest = due - ENGAGED_EARLY_BY
    if outcome == Outcome.ENGAGED and contacted_on < earliest:
        return {
            "contacted_on": _(
                "Still engaged at this checkpoint can rest only on a contact from %(earliest)s "
                "on, a week before it falls due."
            )
            % {"earliest": earliest.isoformat()}
        }
    return None


# The checkpoint each one follows, and the outcome there that leads on to it.
FOLLOWS: dict[str, tuple[str, str]] = {
    Checkpoint.ONE_MONTH: (Checkpoint.FIRST_MEETING, Outcome.ATTENDED),
    Checkpoint.THREE_MONTHS: (Checkpoint.ONE_MONTH, Outcome.ENGAGED),
}


def missing_earlier(checkpoint: str, follow_ups: Iterable[Recorded]) -> str | Promise | None:
    """Why this checkpoint cannot be recorded yet: the one before it must say the
    patient went on (attended the first meeting, still engaged at one month)."""
    if checkpoint not in FOLLOWS:
        return None
    earlier, needed = FOLLOWS[checkpoint]
    by_checkpoint = {f.checkpoint: f.outcome for f in follow_ups}
    if by_checkpoint.get(earlier) == needed:
        return None
    if earlier == Checkpoint.FIRST_MEETING:
        return _("Record the first meeting as attended before the one-month follow-up.")
    return _("Record the one-month follow-up as still engaged before the three-month one.")

"""An access-log entry in words for the reader of the log.

The log keeps short, stable summaries ("follow-up recorded: one_month",
"dashboard?period=3m"), which exports and checks can rely on; the page shows each in
the reader's language, with the filters of a list named as the list's form names them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from urllib.parse import parse_qsl

from django.utils.translation import gettext as _

from referrals.filters import OUTCOMES, PERIODS, ReferralFilter
from referrals.followup import REASON_LABELS, THEME_LABELS, Checkpoint
from referrals.models import Referral, VoidReason

# What a list or file of referrals is, by the name the log gives it.
LISTINGS: dict[str, Callable[[], str]] = {
    "referral list": lambda: _("Referral list"),
    "dashboard": lambda: _("Dashboard"),
    "follow-ups due": lambda: _("Follow-ups due"),
    "audit log": lambda: _("Access log"),
}


def _filter_label(key: str) -> str:
    """A filter's name as the form of its list names it (the referral list and
    dashboard's, or the access log's)."""
    from audit.filters import AuditFilter

    found = ReferralFilter.base_filters.get(key) or AuditFilter.base_filters.get(key)
    if found is not None and found.label:
        return str(found.label)
    return _("Page") if key == "page" else key


def _value(key: str, value: str, names: Mapping[str, str]) -> str:
    by_key: dict[str, Mapping[str, object]] = {
        "period": dict(PERIODS),
        "outcome": dict(OUTCOMES),
        "reason": REASON_LABELS,
        "theme": THEME_LABELS,
    }
    labels = by_key.get(key, {})
    if key in ("counsellor", "user") and value in names:
        return names[value]
    if key in ("offered_non_twelve_step", "voided"):
        return _("yes") if value.lower() in ("true", "1", "yes") else _("no")
    return str(labels.get(value, value))


def filters_in_words(query: str, names: Mapping[str, str]) -> str:
    parts = []
    for key, value in parse_qsl(query):
        parts.append(f"{_filter_label(key)}: {_value(key, value, names)}")
    return "; ".join(parts)


def counsellor_ids(summary: str) -> set[str]:
    """The user ids a summary's filters name, to be looked up once for a page."""
    _what, _sep, query = summary.partition("?")
    return {v for k, v in parse_qsl(query) if k in ("counsellor", "user") and v.isdigit()}


def describe(summary: str, object_type: str = "", names: Mapping[str, str] | None = None) -> str:
    """The entry's summary in words; a summary it does not know is shown as it is."""
    names = names or {}
    if not summary:
        # Nothing more than what was acted on: the referral opened, the account logged in.
        kinds: dict[str, Callable[[], str]] = {
            "referral": lambda: _("The referral"),
            "user": lambda: _("Account"),
            "organisation": lambda: _("Organisation"),
            "reference": lambda: _("Reference"),
        }
        return kinds[object_type]() if object_type in kinds else object_type
    head, _sep, rest = summary.partition(": ")
    if head == "follow-up recorded" and rest in Checkpoint.values:
        return _("Recorded a follow-up: %(checkpoint)s") % {"checkpoint": Checkpoint(rest).label}
    if head == "follow-up form" and rest in Checkpoint.values:
        return _("Opened the follow-up form: %(checkpoint)s") % {
            "checkpoint": Checkpoint(rest).label
        }
    if head == "referral voided" and rest in VoidReason.values:
        return _("Voided the referral: %(reason)s") % {"reason": VoidReason(rest).label}
    fixed: dict[str, Callable[[], str]] = {
        "choice recorded": lambda: _("Recorded the patient's choice"),
        "refer again": lambda: _("Opened to refer the patient again"),
        "meeting calendar": lambda: _("Downloaded a meeting to a calendar"),
        "looked up what is held": lambda: _("Looked up what is held"),
    }
    if summary in fixed:
        return fixed[summary]()
    if head == "everything held":
        return _("Downloaded everything held")
    handouts: tuple[tuple[str, Callable[[], str]], ...] = (
        ("readable export", lambda: _("A copy the patient can read, in %(language)s")),
        ("handout PDF", lambda: _("Handout as PDF, in %(language)s")),
        ("handout", lambda: _("Handout, in %(language)s")),
    )
    for prefix, sentence in handouts:
        if summary.startswith(prefix + " (") and summary.endswith(")"):
            code = summary[len(prefix) + 2 : -1]
            language = dict(Referral.Language.choices).get(code, code)
            return sentence() % {"language": language}
    what, sep, query = summary.partition("?")
    shown: str | None = None
    if what in LISTINGS:
        shown = str(LISTINGS[what]())
    elif what.startswith("dashboard ") and what.endswith(".csv"):
        shown = _("Dashboard table %(file)s") % {"file": what.removeprefix("dashboard ")}
    elif object_type == "audit log" and not sep:
        query, shown = summary, str(LISTINGS["audit log"]())
    if shown is not None:
        filters = filters_in_words(query, names)
        return f"{shown} ({filters})" if filters else shown
    return summary

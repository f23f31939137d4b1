"""A study's change history: the study and everything curated under it."""

from __future__ import annotations

from django.utils.translation import gettext

from curation.history import HistoryEntry, entries, newest_first, register
from studies.models import Finding, FindingTrait, Participant, Quote, Study, Theme

for _model in (Study, Theme, Participant, Quote, Finding):
    register(_model)
register(FindingTrait, undoable_rows=True)


def study_history(study: Study) -> list[HistoryEntry]:
    """Newest first; one query per tracked table, however long the history."""
    finding_ids = Finding.history.filter(study_id=study.pk).values("id")
    return newest_first(
        entries(
            Study,
            Study.history.filter(id=study.pk).select_related("history_user"),
            lambda record: gettext("Study details"),
        ),
        entries(
            Theme,
            Theme.history.filter(study_id=study.pk).select_related("history_user", "parent"),
            lambda record: gettext("Theme: %(name)s") % {"name": record.name},
        ),
        entries(
            Participant,
            Participant.history.filter(study_id=study.pk).select_related("history_user"),
            lambda record: gettext("Participant: %(name)s") % {"name": record.pseudonym},
        ),
        entries(
            Quote,
            Quote.history.filter(study_id=study.pk).select_related("history_user", "speaker"),
            lambda record: gettext("Quote: %(key)s") % {"key": record.key},
        ),
        entries(
            Finding,
            Finding.history.filter(study_id=study.pk).select_related(
                "history_user", "theme", "quote__speaker"
            ),
            lambda record: gettext("Finding: %(key)s") % {"key": record.key},
        ),
        entries(
            FindingTrait,
            FindingTrait.history.filter(finding_id__in=finding_ids).select_related(
                "history_user", "trait", "finding"
            ),
            lambda record: (
                gettext("Finding's trait: %(trait)s") % {"trait": gettext(record.trait.label)}
            ),
        ),
    )

from __future__ import annotations

import datetime
from typing import Any

import django_filters
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from audit.models import AuditEntry
from catalog.forms import IsoDateInput


def _day_start(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


class AuditFilter(django_filters.FilterSet):  # type: ignore[misc]
    """Filters of the access log, over the entries the requesting user may review."""

    since = django_filters.DateFilter(method="filter_since", label=_("From"), widget=IsoDateInput())
    until = django_filters.DateFilter(method="filter_until", label=_("To"), widget=IsoDateInput())
    user = django_filters.ModelChoiceFilter(
        queryset=User.objects.none(), label=_("User"), empty_label=_("Anyone")
    )
    area = django_filters.ChoiceFilter(
        choices=AuditEntry.Area.choices, label=_("Area"), empty_label=_("All areas")
    )
    action = django_filters.ChoiceFilter(
        choices=AuditEntry.Action.choices, label=_("Action"), empty_label=_("All actions")
    )
    reference = django_filters.CharFilter(
        field_name="reference", lookup_expr="iexact", label=_("Reference")
    )

    class Meta:
        model = AuditEntry
        fields: list[str] = []

    def __init__(self, data: Any = None, *, user: Any, **kwargs: Any) -> None:
        super().__init__(data, queryset=AuditEntry.objects.visible_to(user), **kwargs)
        # Only the people of one's own organisation are offered (and accepted).
        self.filters["user"].queryset = User.objects.filter(
            organisation_id=user.organisation_id
        ).order_by("username")

    def filter_since(
        self, queryset: QuerySet[AuditEntry], name: str, value: datetime.date
    ) -> QuerySet[AuditEntry]:
        return queryset.filter(at__gte=_day_start(value))

    def filter_until(
        self, queryset: QuerySet[AuditEntry], name: str, value: datetime.date
    ) -> QuerySet[AuditEntry]:
        return queryset.filter(at__lt=_day_start(value + datetime.timedelta(days=1)))

"""Filters of referrals, shared by the dashboard and the list a dashboard number
drills down to, so that the list shows exactly the referrals behind the number."""

from __future__ import annotations

import datetime
from typing import Any

import django_filters
from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.choices import CallableChoiceIterator
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _
from django_countries import countries

from accounts.models import User
from accounts.roles import Role
from catalog.forms import IsoDateInput
from catalog.models import Group
from referrals.followup import REASON_CHOICES, THEME_LABELS, THEME_OF
from referrals.models import FollowUpReason, Grain, Referral, ReferralQuerySet, Tally

PERIODS = [
    ("3m", _("Last 3 months")),
    ("12m", _("Last 12 months")),
    ("24m", _("Last 24 months")),
]
PERIOD_MONTHS = {"3m": 3, "12m": 12, "24m": 24}
DEFAULT_PERIOD = "12m"

OUTCOMES = [
    ("no_choice", _("No choice recorded")),
    ("awaiting", _("Awaiting the first follow-up")),
    ("attended", _("Attended a first meeting")),
    ("not_attended", _("Did not attend")),
    ("engaged_one_month", _("Engaged at one month")),
    ("engaged_three_months", _("Engaged at three months")),
    ("disengaged", _("Disengaged")),
    ("due", _("Follow-up due")),
]


# Dates a period can start or end on: any a referral can have, with room for the
# arithmetic of days and months (a year 9999 would overflow it).
DATE_RANGE = [
    MinValueValidator(datetime.date(2000, 1, 1)),
    MaxValueValidator(datetime.date(2999, 12, 31)),
]


def start_of_day(day: datetime.date) -> datetime.datetime:
    """Midnight in the site's time zone, so date filters compare the indexed column."""
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def months_back(today: datetime.date, months: int) -> datetime.date:
    """The first day of the month `months - 1` months before today's: N whole months."""
    index = today.year * 12 + today.month - 1 - (months - 1)
    return datetime.date(index // 12, index % 12 + 1, 1)


def next_month(first: datetime.date) -> datetime.date:
    return (first + datetime.timedelta(days=32)).replace(day=1)


def group_choices() -> list[tuple[str, str]]:
    return list(
        Group.objects.exclude(kind=Group.Kind.COMPLEMENTARY)
        .order_by("name")
        .values_list("slug", "name")
    )


def country_choices() -> list[tuple[str, str]]:
    return [(str(code), str(name)) for code, name in countries]


class MonthInput(forms.DateInput):
    input_type = "month"


class ReferralFilterForm(forms.Form):
    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        since, until = data.get("since"), data.get("until")
        if since and until and since > until:
            # Refused, not answered with an empty period that reads as "no referrals".
            self.add_error(
                "until",
                _("“To” is before “From”: give a day on or after %(since)s.")
                % {"since": since.isoformat()},
            )
        return data


class ReferralFilter(django_filters.FilterSet):  # type: ignore[misc]
    """Every filter of the dashboard and its drill-downs. Bound to the requesting user,
    whose referrals it narrows (Referral.objects.visible_to)."""

    q = django_filters.CharFilter(
        field_name="reference", lookup_expr="icontains", label=_("Reference")
    )
    period = django_filters.ChoiceFilter(
        choices=PERIODS, method="filter_period", label=_("Period"), empty_label=_("All time")
    )
    since = django_filters.DateFilter(
        method="filter_since",
        label=_("From"),
        widget=IsoDateInput(),
        help_text=_("Overrides the period."),
        validators=DATE_RANGE,
    )
    until = django_filters.DateFilter(
        method="filter_until",
        label=_("To"),
        widget=IsoDateInput(),
        validators=DATE_RANGE,
    )
    counsellor = django_filters.ModelChoiceFilter(
        queryset=User.objects.none(), label=_("Counsellor"), empty_label=_("All counsellors")
    )
    group = django_filters.ChoiceFilter(
        field_name="chosen_group",
        choices=group_choices,
        label=_("Chosen group"),
        empty_label=_("All groups"),
    )
    country = django_filters.ChoiceFilter(
        choices=country_choices, label=_("Country"), empty_label=_("All countries")
    )
    # Drill-downs from the dashboard's numbers.
    first_ranked = django_filters.CharFilter(label=_("First-ranked group"))
    offered_non_twelve_step = django_filters.BooleanFilter(
        label=_("Menu offered a non-twelve-step group")
    )
    outcome = django_filters.ChoiceFilter(
        choices=OUTCOMES, method="filter_outcome", label=_("Outcome"), empty_label=_("Any")
    )
    theme = django_filters.ChoiceFilter(
        choices=lambda: list(THEME_LABELS.items()),
        method="filter_theme",
        label=_("Reason for disengaging (theme)"),
    )
    reason = django_filters.ChoiceFilter(
        choices=REASON_CHOICES, method="filter_reason", label=_("Reason for disengaging")
    )
    # Voided referrals count nowhere and are listed only when asked for.
    voided = django_filters.BooleanFilter(
        method="filter_voided", label=_("Voided"), widget=forms.HiddenInput
    )
    month = django_filters.DateFilter(
        method="filter_month",
        label=_("Month"),
        input_formats=["%Y-%m"],
        widget=MonthInput(format="%Y-%m"),
        validators=DATE_RANGE,
    )

    class Meta:
        model = Referral
        fields: list[str] = []
        form = ReferralFilterForm

    # The filters a dashboard offers; the rest are drill-downs from its numbers.
    DASHBOARD = ("period", "since", "until", "counsellor", "group", "country")
    DRILL_DOWNS = (
        "first_ranked",
        "offered_non_twelve_step",
        "outcome",
        "theme",
        "reason",
        "month",
        "voided",
    )

    def __init__(self, data: Any = None, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(data, *args, queryset=Referral.objects.visible_to(user), **kwargs)
        self.user = user
        if user.has_role(Role.SUPERVISOR):
            self.filters["counsellor"].queryset = (
                User.objects.filter(organisation_id=user.organisation_id)
                .filter(
                    # Those who were counsellors and have referrals, from the tallies
                    # of months: a few thousand rows where the referrals are a million.
                    Q(groups__name=Role.COUNSELLOR)
                    | Q(pk__in=self._months().values("counsellor_id"))
                )
                .distinct()
                .order_by("username")
            )
        else:
            del self.filters["counsellor"]
        # Any country is a valid filter (it may count nothing), but the list offers
        # only the countries of the user's referrals, not two hundred and fifty.
        self.form.fields["country"].widget.choices = CallableChoiceIterator(lambda: self._countries)

    def _months(self) -> QuerySet[Tally]:
        """The tallies of the months of the user's referrals."""
        return Tally.objects.visible_to(self.user).filter(grain=Grain.MONTH, referrals__gt=0)

    @cached_property
    def _countries(self) -> list[tuple[str, str]]:
        codes = set(self._months().values_list("country", flat=True).distinct())
        if self.form.data.get("country"):
            codes.add(self.form.data["country"])
        return [("", str(_("All countries")))] + [
            (code, name) for code, name in country_choices() if code in codes
        ]

    @property
    def today(self) -> datetime.date:
        return timezone.localdate()

    def filter_queryset(self, queryset: ReferralQuerySet) -> Any:
        if self.form.cleaned_data.get("voided") is None:
            queryset = queryset.counted()
        return super().filter_queryset(queryset)

    def filter_voided(self, queryset: QuerySet[Referral], name: str, value: bool) -> Any:
        return queryset.filter(voided_at__isnull=not value)

    def filter_period(self, queryset: QuerySet[Referral], name: str, value: str) -> Any:
        data = self.form.cleaned_data
        if data.get("since") or data.get("until"):
            return queryset
        since = months_back(self.today, PERIOD_MONTHS[value])
        return queryset.filter(created_at__gte=start_of_day(since))

    def filter_since(self, queryset: QuerySet[Referral], name: str, value: datetime.date) -> Any:
        return queryset.filter(created_at__gte=start_of_day(value))

    def filter_until(self, queryset: QuerySet[Referral], name: str, value: datetime.date) -> Any:
        return queryset.filter(created_at__lt=start_of_day(value + datetime.timedelta(days=1)))

    def filter_month(self, queryset: QuerySet[Referral], name: str, value: datetime.date) -> Any:
        first = value.replace(day=1)
        following = next_month(first)
        return queryset.filter(
            created_at__gte=start_of_day(first), created_at__lt=start_of_day(following)
        )

    def filter_outcome(self, queryset: QuerySet[Referral], name: str, value: str) -> Any:
        chosen = ~Q(chosen_group="")
        conditions = {
            "no_choice": Q(chosen_group=""),
            "awaiting": chosen & Q(attended__isnull=True, disengaged=False),
            "attended": Q(attended=True),
            "not_attended": Q(attended=False),
            "engaged_one_month": Q(engaged_one_month=True),
            "engaged_three_months": Q(engaged_three_months=True),
            "disengaged": Q(disengaged=True),
            "due": Q(follow_up_due_on__lte=self.today),
        }
        return queryset.filter(conditions[value])

    def _with_reason(self, queryset: QuerySet[Referral], codes: list[str]) -> Any:
        reasons = FollowUpReason.objects.filter(follow_up__referral=OuterRef("pk"), code__in=codes)
        return queryset.filter(Exists(reasons))

    def filter_theme(self, queryset: QuerySet[Referral], name: str, value: str) -> Any:
        return self._with_reason(queryset, [c for c, t in THEME_OF.items() if t == value])

    def filter_reason(self, queryset: QuerySet[Referral], name: str, value: str) -> Any:
        return self._with_reason(queryset, [value])

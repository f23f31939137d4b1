from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.forms import CheckboxSelectMultiple, NullBooleanSelect
from django.utils.translation import gettext_lazy as _
from django_countries import countries

from catalog.languages import language_choices, speaks, split_languages
from catalog.models import Availability, Group, TraitValue
from catalog.vocabulary import VOCABULARY

PRESENT = (TraitValue.Value.YES, TraitValue.Value.OPTIONAL)


def trait_choices() -> list[tuple[str, str]]:
    from django.utils.translation import gettext

    return [(definition.key, gettext(definition.label)) for definition in VOCABULARY]


class OnlineSelect(NullBooleanSelect):
    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs)
        self.choices = [
            ("unknown", _("Any")),
            ("true", _("Offered")),
            ("false", _("Not known to be offered")),
        ]


def _with_trait(key: str, values: tuple[str, ...]) -> Exists:
    """Groups whose value that holds everywhere is one of ``values``.

    A value for one country says nothing about the others, so the catalog's filters,
    which know no patient's country, go by the general value.
    """
    return Exists(
        TraitValue.objects.filter(
            group=OuterRef("pk"), trait__key=key, country="", value__in=values
        )
    )


class GroupFilter(django_filters.FilterSet):  # type: ignore[misc]
    q = django_filters.CharFilter(method="filter_q", label=_("Name contains"))
    kind = django_filters.ChoiceFilter(
        choices=Group.Kind.choices, label=_("Kind"), empty_label=_("Any")
    )
    has = django_filters.MultipleChoiceFilter(
        choices=trait_choices,
        widget=CheckboxSelectMultiple,
        method="filter_has",
        label=_("Offers (yes or optional)"),
    )
    lacks = django_filters.MultipleChoiceFilter(
        choices=trait_choices,
        widget=CheckboxSelectMultiple,
        method="filter_lacks",
        label=_("Known not to have"),
    )
    country = django_filters.ChoiceFilter(
        choices=[],
        method="filter_country",
        label=_("Meets in country"),
        empty_label=_("Any"),
    )
    online = django_filters.BooleanFilter(
        method="filter_online",
        label=_("Online meetings"),
        widget=OnlineSelect,
    )
    language = django_filters.ChoiceFilter(
        choices=[],
        method="filter_language",
        label=_("Language"),
        empty_label=_("Any"),
    )

    class Meta:
        model = Group
        fields = ["q", "kind", "has", "lacks", "country", "online", "language"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Offer only the countries and languages the catalog has facts for: a short list
        # to choose from, and a choice that can never match nothing by construction.
        used_countries = set(Availability.objects.values_list("country", flat=True).distinct())
        self.filters["country"].extra["choices"] = sorted(
            ((code, str(name)) for code, name in countries if code in used_countries),
            key=lambda choice: choice[1],
        )
        used_languages: set[str] = set()
        for model in (Group, Availability):
            for value in model.objects.values_list("languages", flat=True).distinct():
                used_languages.update(split_languages(value))
        self.filters["language"].extra["choices"] = sorted(
            ((code, name) for code, name in language_choices() if code in used_languages),
            key=lambda choice: choice[1],
        )

    def filter_q(self, queryset: QuerySet[Group], name: str, value: str) -> QuerySet[Group]:
        return queryset.filter(Q(name__icontains=value) | Q(slug__icontains=value))

    def filter_has(self, queryset: QuerySet[Group], name: str, value: list[str]) -> Any:
        for key in value:
            queryset = queryset.filter(_with_trait(key, PRESENT))
        return queryset

    def filter_lacks(self, queryset: QuerySet[Group], name: str, value: list[str]) -> Any:
        for key in value:
            queryset = queryset.filter(_with_trait(key, (TraitValue.Value.NO,)))
        return queryset

    def filter_country(self, queryset: QuerySet[Group], name: str, value: str) -> Any:
        # Facts about the country itself: a worldwide count of meetings does not say
        # that any of them are in this country.
        return queryset.filter(
            Exists(Availability.objects.filter(group=OuterRef("pk"), country=value))
        )

    def filter_online(self, queryset: QuerySet[Group], name: str, value: bool | None) -> Any:
        if value is None:
            return queryset
        online = _with_trait("online_meetings", (TraitValue.Value.YES,)) | Exists(
            Availability.objects.filter(group=OuterRef("pk"), online=Availability.Online.YES)
        )
        return queryset.filter(online) if value else queryset.exclude(online)

    def filter_language(self, queryset: QuerySet[Group], name: str, value: str) -> Any:
        return queryset.filter(
            speaks("languages", value)
            | Exists(Availability.objects.filter(speaks("languages", value), group=OuterRef("pk")))
        )

from __future__ import annotations

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.forms import BaseInlineFormSet
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from catalog import history, interchange
from catalog.facts import cited_sources, trait_table
from catalog.filters import GroupFilter
from catalog.forms import (
    AvailabilityForm,
    AvailabilityFormSet,
    CompareForm,
    CountryTraitValueForm,
    CountryTraitValueFormSet,
    GroupForm,
    ImportForm,
    SourceForm,
    TraitValueForm,
    source_choices,
    trait_choices,
)
from catalog.models import Availability, Group, Source, Trait, TraitValue
from catalog.services import save_group
from curation import views as curation_views
from curation.models import PendingImport
from curation.views import Importer
from studies.evidence import what_the_studies_say

can_view = permission_required("catalog.view_group", raise_exception=True)
can_change = permission_required("catalog.change_group", raise_exception=True)


@require_GET
@can_view
def group_list(request: HttpRequest) -> HttpResponse:
    queryset = Group.objects.prefetch_related("availability")
    filterset = GroupFilter(request.GET or None, queryset=queryset)
    # A filter that cannot be applied shows its error and no groups, not every group.
    invalid = filterset.is_bound and not filterset.is_valid()
    groups = Group.objects.none() if invalid else filterset.qs
    page = Paginator(groups, 25).get_page(request.GET.get("page"))
    return render(request, "catalog/group_list.html", {"filter": filterset, "page": page})


@require_GET
@can_view
def group_detail(request: HttpRequest, slug: str) -> HttpResponse:
    group = get_object_or_404(Group, slug=slug)
    table = trait_table([group])
    places = list(group.availability.select_related("source"))
    context = {
        "group": group,
        "table": table,
        "places": places,
        "sources": cited_sources(table, places),
        "evidence": what_the_studies_say(group),
    }
    return render(request, "catalog/group_detail.html", context)


@require_GET
@can_view
def group_compare(request: HttpRequest) -> HttpResponse:
    form = CompareForm(request.GET or None)
    groups: list[Group] = []
    if request.GET and "groups" not in request.GET:
        messages.info(request, _("Tick two to four groups to compare them."))
    if form.is_valid():
        groups = sorted(
            form.cleaned_data["groups"], key=lambda g: request.GET.getlist("groups").index(g.slug)
        )
    table = trait_table(groups) if groups else []
    context = {"form": form, "groups": groups, "table": table, "sources": cited_sources(table)}
    return render(request, "catalog/group_compare.html", context)


def _edit(request: HttpRequest, group: Group) -> HttpResponse:
    data = request.POST if request.method == "POST" else None
    group_form = GroupForm(data, instance=group, initial={"version": history.group_version(group)})
    trait_forms, country_formset, formset = _fact_forms(data, group)
    if request.method == "POST":
        forms_valid = [group_form.is_valid(), country_formset.is_valid(), formset.is_valid()]
        forms_valid += [f.is_valid() for f in trait_forms]
        if all(forms_valid):
            try:
                group = save_group(
                    group_form=group_form,
                    trait_forms=trait_forms,
                    country_value_formset=country_formset,
                    availability_formset=formset,
                )
            except ValidationError as stale:
                messages.error(request, " ".join(stale.messages))
            else:
                messages.success(request, _("Saved %(group)s.") % {"group": group})
                return redirect(group)
        else:
            messages.error(request, _("Nothing was saved. Correct the fields marked below."))
    context = {
        "group": group,
        "form": group_form,
        "trait_rows": _trait_rows(trait_forms, country_formset),
        "trait_forms": trait_forms,
        "country_formset": country_formset,
        "formset": formset,
    }
    return render(request, "catalog/group_form.html", context)


CountryValues = BaseInlineFormSet[TraitValue, Group, CountryTraitValueForm]
Places = BaseInlineFormSet[Availability, Group, AvailabilityForm]


def _fact_forms(
    data: QueryDict | None, group: Group
) -> tuple[list[TraitValueForm], CountryValues, Places]:
    """The forms of a group's facts: per trait the value that holds everywhere, the
    values for one country, and where it meets."""
    general = group.trait_values.filter(country="").select_related("trait") if group.pk else []
    existing = {value.trait_id: value for value in general}
    sources = source_choices()
    traits = list(Trait.objects.all())
    trait_forms = [
        TraitValueForm(
            data,
            instance=existing.get(trait.pk)
            or TraitValue(trait=trait, value=TraitValue.Value.UNKNOWN),
            prefix=f"trait-{trait.key}",
            sources=sources,
        )
        for trait in traits
    ]
    country_formset = CountryTraitValueFormSet(
        data,
        instance=group,
        queryset=TraitValue.objects.exclude(country="").select_related("trait"),
        prefix="country-value",
        form_kwargs={"sources": sources, "traits": trait_choices(traits)},
    )
    formset = AvailabilityFormSet(
        data, instance=group, prefix="availability", form_kwargs={"sources": sources}
    )
    return trait_forms, country_formset, formset


def _trait_rows(
    trait_forms: list[TraitValueForm], country_formset: CountryValues
) -> list[tuple[TraitValueForm, list[CountryTraitValueForm]]]:
    """Each trait's form with the forms of its saved values for one country, by country
    name, so they are edited beside the value that holds everywhere. Forms for new values
    are shown after the table."""
    by_trait: dict[int, list[CountryTraitValueForm]] = {}
    for form in country_formset.initial_forms:
        by_trait.setdefault(form.instance.trait_id, []).append(form)
    return [
        (
            form,
            sorted(
                by_trait.get(form.instance.trait_id, []),
                key=lambda f: f.instance.country.name,
            ),
        )
        for form in trait_forms
    ]


@require_http_methods(["GET", "POST"])
@can_change
def group_create(request: HttpRequest) -> HttpResponse:
    return _edit(request, Group())


@require_http_methods(["GET", "POST"])
@can_change
def group_edit(request: HttpRequest, slug: str) -> HttpResponse:
    return _edit(request, get_object_or_404(Group, slug=slug))


@require_GET
@can_change
def group_history(request: HttpRequest, slug: str) -> HttpResponse:
    group = get_object_or_404(Group, slug=slug)
    entries = history.group_history(group)
    return curation_views.history_page(
        request, group, entries, undo_url_name="catalog:history-undo", owner_key=group.slug
    )


@require_http_methods(["GET", "POST"])
@can_change
def history_undo(request: HttpRequest, slug: str, kind: str, history_id: int) -> HttpResponse:
    """Confirm (GET), then undo (POST) one entry of a group's history."""
    group = get_object_or_404(Group, slug=slug)

    def history_url() -> str:
        group.refresh_from_db()  # an undo may have changed the slug
        return reverse("catalog:group-history", args=[group.slug])

    entries = history.group_history(group)
    return curation_views.undo_page(
        request, group, entries, kind, history_id, history_url=history_url
    )


@require_GET
@can_change
def catalog_export(request: HttpRequest, fmt: str) -> HttpResponse:
    stamp = timezone.localdate().isoformat()
    if fmt == "json":
        response = HttpResponse(interchange.export_json(), content_type="application/json")
    else:
        response = HttpResponse(interchange.export_csv_zip(), content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="recovery-menu-catalog-{stamp}.{fmt}"'
    return response


def _catalog_report(filename: str, summary: interchange.ImportSummary) -> list[tuple[int, str]]:
    report = [
        (
            messages.SUCCESS,
            _(
                "Imported %(file)s: %(created)d created, %(updated)d updated, "
                "%(deleted)d deleted, %(unchanged)d unchanged."
            )
            % {"file": filename, **summary.__dict__},
        )
    ]
    if summary.untouched_groups:
        report.append(
            (
                messages.INFO,
                _("Groups not in the file were left as they are: %(slugs)s.")
                % {"slugs": ", ".join(summary.untouched_groups)},
            )
        )
    return report


CATALOG_IMPORT = Importer(
    kind=PendingImport.Kind.CATALOG,
    form=ImportForm,
    plan=interchange.plan_upload,
    report=_catalog_report,
    title=gettext_lazy("Review the catalog import"),
    template="catalog/catalog_import.html",
    upload_url="catalog:catalog-import",
    preview_url="catalog:catalog-import-preview",
    done_url="catalog:group-list",
)


@require_http_methods(["GET", "POST"])
@can_change
def catalog_import(request: HttpRequest) -> HttpResponse:
    """Upload a catalog file; a file without problems goes on to its preview."""
    return curation_views.upload(request, CATALOG_IMPORT)


@require_http_methods(["GET", "POST"])
@can_change
def catalog_import_preview(request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    """What an uploaded file would change (GET), and applying it (POST)."""
    return curation_views.preview(request, CATALOG_IMPORT, pk)


@require_GET
@can_view
def source_list(request: HttpRequest) -> HttpResponse:
    return render(request, "catalog/source_list.html", {"sources": Source.objects.all()})


@require_http_methods(["GET", "POST"])
@permission_required(["catalog.add_source", "catalog.change_source"], raise_exception=True)
def source_edit(request: HttpRequest, key: str | None = None) -> HttpResponse:
    source = get_object_or_404(Source, key=key) if key else Source()
    form = SourceForm(request.POST or None, instance=source)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, _("Saved source %(source)s.") % {"source": form.instance})
        return redirect("catalog:source-list")
    return render(request, "catalog/source_form.html", {"form": form, "source": source})

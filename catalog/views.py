from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from catalog import history, interchange
from catalog.facts import cited_sources, trait_table
from catalog.filters import GroupFilter
from catalog.forms import (
    AvailabilityFormSet,
    CompareForm,
    GroupForm,
    ImportForm,
    SourceForm,
    TraitValueForm,
)
from catalog.models import Group, Source, Trait, TraitValue
from catalog.services import save_group

can_view = permission_required("catalog.view_group", raise_exception=True)
can_change = permission_required("catalog.change_group", raise_exception=True)


@require_GET
@can_view
def group_list(request: HttpRequest) -> HttpResponse:
    queryset = Group.objects.prefetch_related("availability")
    filterset = GroupFilter(request.GET or None, queryset=queryset)
    page = Paginator(filterset.qs, 25).get_page(request.GET.get("page"))
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
    }
    return render(request, "catalog/group_detail.html", context)


@require_GET
@can_view
def group_compare(request: HttpRequest) -> HttpResponse:
    form = CompareForm(request.GET or None)
    groups: list[Group] = []
    if form.is_valid():
        groups = sorted(
            form.cleaned_data["groups"], key=lambda g: request.GET.getlist("groups").index(g.slug)
        )
    table = trait_table(groups) if groups else []
    context = {"form": form, "groups": groups, "table": table, "sources": cited_sources(table)}
    return render(request, "catalog/group_compare.html", context)


def _edit(request: HttpRequest, group: Group) -> HttpResponse:
    existing = {value.trait_id: value for value in group.trait_values.all()} if group.pk else {}
    sources = [("", "---------"), *((s.pk, str(s)) for s in Source.objects.all())]
    data = request.POST if request.method == "POST" else None
    group_form = GroupForm(data, instance=group)
    trait_forms = [
        TraitValueForm(
            data,
            instance=existing.get(trait.pk)
            or TraitValue(trait=trait, value=TraitValue.Value.UNKNOWN),
            prefix=f"trait-{trait.key}",
            sources=sources,
        )
        for trait in Trait.objects.all()
    ]
    formset = AvailabilityFormSet(data, instance=group, prefix="availability")
    if request.method == "POST":
        forms_valid = [group_form.is_valid(), formset.is_valid()] + [
            f.is_valid() for f in trait_forms
        ]
        if all(forms_valid):
            group = save_group(
                group_form=group_form, trait_forms=trait_forms, availability_formset=formset
            )
            messages.success(request, _("Saved %(group)s.") % {"group": group})
            return redirect(group)
        messages.error(request, _("Nothing was saved. Correct the fields marked below."))
    context = {"group": group, "form": group_form, "trait_forms": trait_forms, "formset": formset}
    return render(request, "catalog/group_form.html", context)


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
    page = Paginator(history.group_history(group), 50).get_page(request.GET.get("page"))
    return render(request, "catalog/group_history.html", {"group": group, "page": page})


@require_POST
@can_change
def history_revert(request: HttpRequest, slug: str, kind: str, history_id: int) -> HttpResponse:
    group = get_object_or_404(Group, slug=slug)
    if kind not in history.TRACKED:
        return HttpResponse(status=404)
    try:
        history.revert(kind, history_id, group=group, reason=_("Reverted to an earlier version"))
    except history.RevertError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("Reverted. The revert is recorded in the history too."))
    return redirect("catalog:group-history", slug=group.slug)


@require_GET
@can_change
def catalog_export(request: HttpRequest, fmt: str) -> HttpResponse:
    stamp = dt.date.today().isoformat()
    if fmt == "json":
        response = HttpResponse(interchange.export_json(), content_type="application/json")
    else:
        response = HttpResponse(interchange.export_csv_zip(), content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="recovery-menu-catalog-{stamp}.{fmt}"'
    return response


@require_http_methods(["GET", "POST"])
@can_change
def catalog_import(request: HttpRequest) -> HttpResponse:
    form = ImportForm(request.POST or None, request.FILES or None)
    errors: list[str] = []
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            document = interchange.parse_upload(upload.read(), upload.name)
            summary = interchange.apply(
                document, reason=_("Imported from %(file)s") % {"file": upload.name}
            )
        except interchange.CatalogImportError as error:
            errors = error.errors
        else:
            messages.success(
                request,
                _(
                    "Imported %(file)s: %(created)d created, %(updated)d updated, "
                    "%(deleted)d deleted, %(unchanged)d unchanged."
                )
                % {"file": upload.name, **summary.__dict__},
            )
            if summary.untouched_groups:
                messages.info(
                    request,
                    _("Groups not in the file were left as they are: %(slugs)s.")
                    % {"slugs": ", ".join(summary.untouched_groups)},
                )
            return redirect("catalog:group-list")
    return render(request, "catalog/catalog_import.html", {"form": form, "errors": errors})


@require_GET
@can_view
def source_list(request: HttpRequest) -> HttpResponse:
    return render(request, "catalog/source_list.html", {"sources": Source.objects.all()})


@require_http_methods(["GET", "POST"])
@can_change
def source_edit(request: HttpRequest, key: str | None = None) -> HttpResponse:
    source = get_object_or_404(Source, key=key) if key else Source()
    form = SourceForm(request.POST or None, instance=source)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, _("Saved source %(source)s.") % {"source": form.instance})
        return redirect("catalog:source-list")
    return render(request, "catalog/source_form.html", {"form": form, "source": source})

from __future__ import annotations

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from curation import views as curation_views
from curation.models import PendingImport
from curation.views import Importer
from studies import evidence, interchange
from studies.forms import FindingForm, FindingTraitFormSet, QuoteForm, SearchForm, StudyImportForm
from studies.history import study_history
from studies.models import Finding, Quote, Study, Theme
from studies.services import save_finding

can_view = permission_required("studies.view_study", raise_exception=True)


@require_GET
@can_view
def study_list(request: HttpRequest) -> HttpResponse:
    return render(request, "studies/study_list.html", {"studies": Study.objects.all()})


@require_GET
@can_view
def study_detail(request: HttpRequest, key: str) -> HttpResponse:
    study = get_object_or_404(Study, key=key)
    themes = list(study.themes.order_by("position"))
    quotes = list(
        study.quotes.select_related("speaker").prefetch_related("themes").order_by("position")
    )
    context = {
        "study": study,
        "participants": list(study.participants.all()),
        "tree": evidence.theme_tree(themes, quotes),
        "reference_texts": list(study.reference_texts.all()),
        "quote_count": len(quotes),
    }
    return render(request, "studies/study_detail.html", context)


@require_GET
@can_view
def theme_detail(request: HttpRequest, key: str, theme_key: str) -> HttpResponse:
    theme = get_object_or_404(
        Theme.objects.select_related("study", "parent"), study__key=key, key=theme_key
    )
    findings = list(
        Finding.objects.filter(theme=theme)
        .select_related("quote__speaker")
        .prefetch_related("trait_links__trait")
    )
    quotes = list(theme.quotes.select_related("speaker"))
    fellowships = evidence.fellowship_names(finding.fellowship for finding in findings)
    context = {
        "theme": theme,
        "study": theme.study,
        "children": list(theme.children.all()),
        "quotes": [quote for quote in quotes if quote.is_participants_words],
        "phrases": [quote for quote in quotes if not quote.is_participants_words],
        "findings": [(finding, fellowships.get(finding.fellowship)) for finding in findings],
        "groups": evidence.groups_for_findings(findings),
    }
    return render(request, "studies/theme_detail.html", context)


@require_GET
@can_view
def quote_search(request: HttpRequest) -> HttpResponse:
    form = SearchForm(request.GET or None)
    page = None
    if form.is_valid():
        page = Paginator(evidence.search_quotes(form.cleaned_data["q"]), 25).get_page(
            request.GET.get("page")
        )
    return render(request, "studies/quote_search.html", {"form": form, "page": page})


# --- Curation (catalog admins) ----------------------------------------------

can_curate = permission_required("studies.change_study", raise_exception=True)


@require_GET
@can_curate
def study_history_page(request: HttpRequest, key: str) -> HttpResponse:
    study = get_object_or_404(Study, key=key)
    return curation_views.history_page(
        request,
        study,
        study_history(study),
        undo_url_name="studies:history-undo",
        owner_key=study.key,
    )


@require_http_methods(["GET", "POST"])
@can_curate
def history_undo(request: HttpRequest, key: str, kind: str, history_id: int) -> HttpResponse:
    study = get_object_or_404(Study, key=key)
    return curation_views.undo_page(
        request,
        study,
        study_history(study),
        kind,
        history_id,
        history_url=lambda: reverse("studies:study-history", args=[study.key]),
    )


@require_http_methods(["GET", "POST"])
@can_curate
def quote_edit(request: HttpRequest, key: str, quote_key: str) -> HttpResponse:
    quote = get_object_or_404(Quote.objects.select_related("study"), study__key=key, key=quote_key)
    form = QuoteForm(request.POST or None, instance=quote)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, _("Saved the quote."))
        return redirect(quote.study)
    return render(request, "studies/quote_form.html", {"form": form, "quote": quote})


@require_http_methods(["GET", "POST"])
@can_curate
def finding_edit(request: HttpRequest, key: str, finding_key: str) -> HttpResponse:
    finding = get_object_or_404(
        Finding.objects.select_related("study"), study__key=key, key=finding_key
    )
    data = request.POST if request.method == "POST" else None
    form = FindingForm(data, instance=finding)
    traits = FindingTraitFormSet(data, instance=finding, prefix="traits")
    if request.method == "POST":
        if form.is_valid() and traits.is_valid():
            save_finding(form=form, traits=traits)
            messages.success(request, _("Saved the finding."))
            return redirect(finding.theme)
        messages.error(request, _("Nothing was saved. Correct the fields marked below."))
    context = {"form": form, "traits": traits, "finding": finding}
    return render(request, "studies/finding_form.html", context)


@require_GET
@can_curate
def studies_export(request: HttpRequest) -> HttpResponse:
    response = HttpResponse(interchange.export_json(), content_type="application/json")
    stamp = timezone.localdate().isoformat()
    response["Content-Disposition"] = f'attachment; filename="recovery-menu-studies-{stamp}.json"'
    return response


def _studies_report(filename: str, summary: interchange.ImportSummary) -> list[tuple[int, str]]:
    message = _(
        "Imported %(file)s: %(created)d created, %(replaced)d replaced, %(unchanged)d unchanged."
    ) % {"file": filename, **summary.__dict__}
    return [(messages.SUCCESS, message)]


STUDIES_IMPORT = Importer(
    kind=PendingImport.Kind.STUDIES,
    form=StudyImportForm,
    plan=interchange.plan_upload,
    report=_studies_report,
    title=gettext_lazy("Review the studies import"),
    template="studies/studies_import.html",
    upload_url="studies:studies-import",
    preview_url="studies:studies-import-preview",
    done_url="studies:study-list",
)


@require_http_methods(["GET", "POST"])
@can_curate
def studies_import(request: HttpRequest) -> HttpResponse:
    """Upload a studies file; a file without problems goes on to its preview."""
    return curation_views.upload(request, STUDIES_IMPORT)


@require_http_methods(["GET", "POST"])
@can_curate
def studies_import_preview(request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    """What an uploaded file would change (GET), and applying it (POST)."""
    return curation_views.preview(request, STUDIES_IMPORT, pk)

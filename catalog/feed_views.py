"""The CSV template for meetings of groups without a feed (catalog admins)."""

from __future__ import annotations

from pathlib import Path

from django.contrib.auth.decorators import permission_required
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

TEMPLATE = Path(__file__).resolve().parent / "data" / "meeting-template.csv"


@require_GET
@permission_required("catalog.change_group", raise_exception=True)
def meeting_template(request: HttpRequest) -> HttpResponse:
    """The header and two example rows, commented out; README, "CSV template", says
    what each column holds and how to import the file."""
    response = HttpResponse(TEMPLATE.read_bytes(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="meeting-template.csv"'
    return response

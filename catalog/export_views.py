"""The catalog in open formats: a Meeting Guide feed and an HSDS 3.0 document.

Any user who may read the catalog may download them; they hold reference data only
(never an organisation's own meetings).
"""

from __future__ import annotations

import json
from typing import Any

from django.contrib.auth.decorators import permission_required
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.http import require_GET

from catalog.models import Meeting
from catalog.openformats import hsds_document, meeting_guide_feed

can_view = permission_required("catalog.view_group", raise_exception=True)


def _json(document: Any, *, disposition: str, filename: str) -> HttpResponse:
    body = json.dumps(document, ensure_ascii=False, indent=2)
    response = HttpResponse(body, content_type="application/json")
    response["Content-Disposition"] = f'{disposition}; filename="{filename}"'
    return response


@require_GET
@can_view
def meeting_guide(request: HttpRequest) -> HttpResponse:
    """Shown in the browser (inline): a finder reads it from the address."""
    feed = meeting_guide_feed(Meeting.objects.all())
    return _json(feed, disposition="inline", filename="meetings.json")


@require_GET
@can_view
def hsds(request: HttpRequest) -> HttpResponse:
    stamp = timezone.localdate().isoformat()
    return _json(
        hsds_document(), disposition="attachment", filename=f"recovery-menu-hsds-{stamp}.json"
    )

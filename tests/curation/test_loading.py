"""Loading the shipped reference data goes through the same engine as an upload."""

from __future__ import annotations

import json

import pytest
from django.core.management import CommandError, call_command

from catalog import reference

pytestmark = pytest.mark.django_db


def test_a_shipped_catalog_with_problems_stops_the_loader_naming_each(
    vocabulary, tmp_path, monkeypatch
):
    document = json.loads(reference.CATALOG_FILE.read_bytes())
    na = next(group for group in document["groups"] if group["slug"] == "na")
    na["kind"] = "church"
    na["traits"][0]["value"] = "perhaps"
    broken = tmp_path / "catalog.json"
    broken.write_text(json.dumps(document))
    monkeypatch.setattr(reference, "CATALOG_FILE", broken)
    with pytest.raises(CommandError) as caught:
        call_command("load_reference_data", stdout=None)
    lines = str(caught.value).splitlines()
    assert len(lines) == 2, lines
    assert lines[0].startswith("Group “na”, field “kind”: ")
    assert lines[1].startswith(f"Group “na”, trait “{na['traits'][0]['trait']}”, field “value”: ")

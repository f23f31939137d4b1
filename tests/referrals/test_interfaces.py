"""The web page, the API and the command give the same menu; bad input is named."""

from __future__ import annotations

import io
import json
import sys

import pytest
from django.core.management import call_command

from accounts.models import ApiToken
from catalog.models import Group
from referrals.models import Referral
from referrals.profile import parse_profile

pytestmark = pytest.mark.django_db

PROFILE = {
    "reference": "P-0042",
    "gender": "female",
    "age": 34,
    "country": "NO",
    "languages": ["nb", "en"],
    "substances": ["opioids", "alcohol"],
    "goal": "abstinence",
    "on_medication_treatment": True,
    "psychiatric_comorbidity": True,
    "trauma_history": True,
    "spirituality": "averse",
    "format": "dialogue",
    "wants_sponsor": "no",
    "wants_social_activities": False,
    "prefers_women_only": True,
    "attendance": "either",
    "previous_groups": [{"group": "na", "experience": "negative"}],
}
FORM = {
    "reference": "P-0042",
    "language": "en",
    "gender": "female",
    "age": "34",
    "country": "NO",
    "languages": ["nb", "en"],
    "substances": ["opioids", "alcohol"],
    "goal": "abstinence",
    "on_medication_treatment": "on",
    "psychiatric_comorbidity": "on",
    "trauma_history": "on",
    "spirituality": "averse",
    "format": "dialogue",
    "wants_sponsor": "no",
    "prefers_women_only": "on",
    "attendance": "either",
    "previous_1_group": "na",
    "previous_1_experience": "negative",
}


def _from_command(tmp_path, capsys, data: str) -> tuple[int, str, str]:
    path = tmp_path / "profile.json"
    path.write_text(data)
    try:
        call_command("match", str(path))
        code = 0
    except SystemExit as exit_:
        code = int(exit_.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def test_the_three_interfaces_give_the_same_menu(
    counsellor_client, reference_data, tmp_path, capsys
):
    api = counsellor_client.post("/api/v1/match", PROFILE, content_type="application/json")
    assert api.status_code == 200
    code, out, _err = _from_command(tmp_path, capsys, json.dumps(PROFILE))
    assert code == 0
    assert json.loads(out) == api.json()

    page = counsellor_client.post("/referrals/new/", {**FORM, "save": "1"})
    assert page.status_code == 302
    saved = Referral.objects.get(reference="P-0042")
    assert [(o["group"], o["rank"], o["score"]) for o in saved.options] == [
        (o["group"], o["rank"], o["score"]) for o in api.json()["options"]
    ]
    assert parse_profile(saved.profile) == parse_profile(PROFILE)


def test_the_command_reads_standard_input(reference_data, monkeypatch, capsys):
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(json.dumps(PROFILE).encode())))
    call_command("match", "-")
    assert json.loads(capsys.readouterr().out)["reference"] == "P-0042"


def test_the_menu_follows_the_contract(counsellor_client, reference_data):
    menu = counsellor_client.post("/api/v1/match", PROFILE, content_type="application/json").json()
    assert set(menu) == {"reference", "options", "considered", "complementary", "excluded"}
    first = menu["options"][0]
    assert set(first) >= {"group", "name", "rank", "score", "fit", "cautions", "evidence"}
    assert set(first) >= {"reasons", "meetings"}
    assert [o["rank"] for o in menu["options"]] == list(range(1, len(menu["options"]) + 1))
    assert menu["options"][-1]["group"] == "na"  # left after a negative experience
    assert "trauma-support" in [c["group"] for c in menu["complementary"]]
    assert "wfs" in [o["group"] for o in menu["options"]]
    evidence = [e for o in menu["options"] for e in o["evidence"]]
    assert evidence and set(evidence[0]) >= {"study", "theme", "quote", "speaker"}
    reason = first["reasons"][0]
    assert reason["kind"] == "base" and reason["points"] == 0.5
    assert set(reason) == {"kind", "text", "points", "trait", "value", "source", "evidence"}
    for option in (*menu["options"], *menu["considered"]):
        assert option["score"] == round(sum(r["points"] for r in option["reasons"]), 2)
    every = [
        *(o["group"] for o in menu["options"]),
        *(o["group"] for o in menu["considered"]),
        *(o["group"] for o in menu["excluded"]),
        *(o["group"] for o in menu["complementary"]),
    ]
    assert sorted(every) == sorted(Group.objects.values_list("slug", flat=True))
    cited = [e for o in menu["options"] for r in o["reasons"] for e in r["evidence"]]
    assert cited and set(cited[0]) == {
        "study",
        "finding",
        "summary",
        "theme",
        "quote",
        "speakers",
        "locator",
    }


def test_reasons_for_leaving_a_group_are_checked_against_the_codes(counsellor_client):
    left = {"group": "na", "experience": "negative", "reasons": ["bored"]}
    response = counsellor_client.post(
        "/api/v1/match",
        {**PROFILE, "previous_groups": [left]},
        content_type="application/json",
    )
    assert response.status_code == 422
    (error,) = response.json()["detail"]
    assert error["field"] == "previous_groups[0].reasons"
    assert "unknown reason “bored”" in error["message"]
    assert "perceived-negative-focus" in error["message"]


BAD = [
    ({**PROFILE, "colour": "blue"}, "colour", "unknown field"),
    ({**PROFILE, "gender": "robot"}, "gender", "'female', 'male', 'nonbinary' or 'unspecified'"),
    ({**PROFILE, "age": "34"}, "age", "integer"),
    ({**PROFILE, "on_medication_treatment": "yes"}, "on_medication_treatment", "boolean"),
    ({**PROFILE, "substances": ["heroin"]}, "substances[0]", "'opioids'"),
    (
        {**PROFILE, "previous_groups": [{"group": "na", "experience": "awful"}]},
        "previous_groups[0].experience",
        "'negative'",
    ),
    (
        {**PROFILE, "previous_groups": [{"group": "xyz", "experience": "negative"}]},
        "previous_groups[0].group",
        "allowed: aa",
    ),
    ({k: v for k, v in PROFILE.items() if k != "reference"}, "reference", "required"),
    ({**PROFILE, "reference": "Kari Nordmann"}, "reference", "never a name"),
    ({**PROFILE, "country": "ZZ"}, "country", "ISO 3166-1"),
    ({**PROFILE, "languages": ["klingon"]}, "languages[0]", "pattern"),
    (
        {**PROFILE, "previous_groups": [{"group": "trauma-support", "experience": "mixed"}]},
        "previous_groups[0].group",
        "unknown group",
    ),
    (
        {**PROFILE, "previous_groups": [{"group": "na", "experience": "mixed", "when": 2019}]},
        "previous_groups[0].when",
        "allowed fields: group, experience",
    ),
]


@pytest.mark.parametrize(("profile", "field", "message"), BAD)
def test_bad_input_is_422_naming_the_field(
    counsellor_client, reference_data, profile, field, message
):
    response = counsellor_client.post("/api/v1/match", profile, content_type="application/json")
    assert response.status_code == 422
    details = response.json()["detail"]
    assert any(d["field"] == field and message in d["message"] for d in details), details


@pytest.mark.parametrize(("profile", "field", "message"), BAD)
def test_bad_input_is_exit_status_2_naming_the_field(
    reference_data, tmp_path, capsys, profile, field, message
):
    code, out, err = _from_command(tmp_path, capsys, json.dumps(profile))
    assert code == 2
    assert out == ""
    assert any(line.startswith(f"{field}:") and message in line for line in err.splitlines()), err


def test_malformed_json_is_422_and_exit_2(counsellor_client, reference_data, tmp_path, capsys):
    response = counsellor_client.post("/api/v1/match", "{oops", content_type="application/json")
    assert response.status_code == 422
    assert response.json()["detail"][0]["field"] == "body"
    code, _out, err = _from_command(tmp_path, capsys, "{oops")
    assert code == 2 and "not valid JSON" in err


def test_the_api_takes_a_token_and_refuses_strangers(client, counsellor, reference_data):
    _token, key = ApiToken.issue(counsellor, "test")
    ok = client.post(
        "/api/v1/match",
        PROFILE,
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {key}",
    )
    assert ok.status_code == 200
    assert client.post("/api/v1/match", PROFILE, content_type="application/json").status_code == 401
    bad = client.post(
        "/api/v1/match", PROFILE, content_type="application/json", HTTP_AUTHORIZATION="Bearer nope"
    )
    assert bad.status_code == 401


def test_only_counsellors_match_through_the_api(admin_client_, reference_data):
    response = admin_client_.post("/api/v1/match", PROFILE, content_type="application/json")
    assert response.status_code == 403


def test_the_openapi_schema_documents_the_contract(counsellor_client, reference_data):
    schema = counsellor_client.get("/api/v1/openapi.json").json()
    operation = schema["paths"]["/api/v1/match"]["post"]
    body = operation["requestBody"]["content"]["application/json"]["schema"]
    assert body["additionalProperties"] is False
    assert set(body["properties"]) >= {"reference", "gender", "previous_groups"}
    assert {"200", "422"} <= set(operation["responses"])


def test_a_token_of_a_non_counsellor_is_refused(client, supervisor, reference_data):
    _token, key = ApiToken.issue(supervisor, "test")
    response = client.post(
        "/api/v1/match",
        PROFILE,
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {key}",
    )
    assert response.status_code == 403


def _named_in_the_matcher() -> set[str]:
    """Every string constant of the matcher's code (rules name findings by key)."""
    import ast
    from pathlib import Path

    from referrals import matching

    tree = ast.parse(Path(matching.__file__).read_text())
    return {
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    }


def test_every_finding_is_named_by_a_rule_and_every_named_finding_exists():
    from referrals.matching import LEFT_OVER
    from studies.reference import STUDIES_FILE

    studies = json.loads(STUDIES_FILE.read_text())["studies"]
    keys = {f["key"] for study in studies for f in study["findings"]}
    named = _named_in_the_matcher()
    assert keys <= named, f"findings no rule cites: {sorted(keys - named)}"
    cited = {key for _traits, findings in LEFT_OVER.values() for key in findings}
    assert cited <= keys


def test_rules_cite_the_findings_they_rest_on(reference_data):
    from referrals.matching import Profile, match
    from referrals.snapshot import current_snapshot

    menu = match(Profile("P-1", trauma_history=True), current_snapshot(), size=20)
    na = next(o for o in menu.options if o.group == "na")
    step_five = next(p for p in na.cautions if p.text.message.startswith("Step 5"))
    # Only the step-5 finding, not every caution the studies raise about step work.
    assert [e.finding for e in step_five.evidence] == ["step-five-trauma-survivors"]
    assert step_five.evidence[0].speakers == ("Celine",)
    assert len(step_five.evidence[0].quote.split()) >= 5

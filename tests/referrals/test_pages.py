from __future__ import annotations

import pytest

from accounts.roles import Role
from catalog.models import Group, TraitValue
from referrals.models import Referral
from tests.conftest import _client_for
from tests.factories import (
    GroupFactory,
    TraitValueFactory,
    UserFactory,
    disengaged_at_one_month,
)
from tests.referrals.test_interfaces import FORM

pytestmark = pytest.mark.django_db


def _save(client, **changes) -> Referral:
    response = client.post("/referrals/new/", {**FORM, **changes, "save": "1"})
    assert response.status_code == 302, response.content.decode()[:2000]
    return Referral.objects.latest("id")


def test_intake_is_for_counsellors(
    counsellor_client, supervisor_client, admin_client_, reference_data
):
    assert counsellor_client.get("/referrals/new/").status_code == 200
    assert supervisor_client.get("/referrals/new/").status_code == 403
    assert admin_client_.get("/referrals/new/").status_code == 403


def test_the_menu_re_ranks_as_answers_change(counsellor_client, reference_data):
    neutral = {
        **FORM,
        "spirituality": "welcome",
        "format": "sharing",
        "wants_sponsor": "yes",
        "reference": "",
        "previous_1_group": "",
        "previous_1_experience": "",
    }
    del neutral["on_medication_treatment"]
    first = counsellor_client.post("/referrals/new/", neutral, HTTP_HX_REQUEST="true")
    assert first.status_code == 200
    assert first.content.decode().lstrip().startswith('<div id="menu"')
    averse = counsellor_client.post(
        "/referrals/new/",
        {**neutral, "spirituality": "averse", "format": "dialogue"},
        HTTP_HX_REQUEST="true",
    )
    top = lambda response: response.content.decode().split('data-group="')[1].split('"')[0]  # noqa: E731
    assert top(first) != top(averse)
    assert not Referral.objects.exists(), "previews save nothing"


def test_saving_keeps_the_menu_as_it_was_shown(counsellor_client, reference_data):
    referral = _save(counsellor_client)
    shown = referral.menu
    TraitValue.objects.filter(group__slug="smart-recovery").delete()
    Group.objects.filter(slug="wfs").update(name="Renamed")
    referral.refresh_from_db()
    assert referral.menu == shown
    page = counsellor_client.get(f"/referrals/{referral.pk}/").content.decode()
    assert "Women for Sobriety" in page


def test_a_name_as_reference_is_refused_and_nothing_saved(counsellor_client, reference_data):
    response = counsellor_client.post(
        "/referrals/new/", {**FORM, "reference": "Kari Nordmann", "save": "1"}
    )
    assert response.status_code == 200
    assert "never a name" in response.content.decode()
    assert not Referral.objects.exists()


def test_the_patient_s_choice_is_recorded(counsellor_client, reference_data):
    referral = _save(counsellor_client)
    chosen = referral.options[1]["group"]
    counsellor_client.post(f"/referrals/{referral.pk}/choose/", {"group": chosen})
    referral.refresh_from_db()
    assert referral.chosen_group == chosen
    counsellor_client.post(f"/referrals/{referral.pk}/choose/", {"group": "not-on-the-menu"})
    referral.refresh_from_db()
    assert referral.chosen_group == chosen


def test_my_referrals_lists_mine_with_search(
    counsellor_client, counsellor, organisation, reference_data
):
    _save(counsellor_client, reference="P-0001")
    _save(counsellor_client, reference="P-0002")
    colleague = UserFactory(organisation=organisation, roles=[Role.COUNSELLOR])
    Referral.objects.create(
        organisation=organisation,
        counsellor=colleague,
        reference="P-9999",
        profile={},
        menu={"options": []},
    )
    page = counsellor_client.get("/referrals/").content.decode()
    assert "P-0001" in page and "P-0002" in page and "P-9999" not in page
    found = counsellor_client.get("/referrals/?q=0002").content.decode()
    assert "P-0002" in found and "P-0001" not in found


def test_supervisors_see_their_organisation_s_referrals(
    counsellor_client, supervisor_client, reference_data
):
    referral = _save(counsellor_client)
    assert supervisor_client.get(f"/referrals/{referral.pk}/").status_code == 200
    assert referral.reference in supervisor_client.get("/referrals/").content.decode()


def test_outsiders_and_colleagues_cannot_open_a_referral(
    counsellor_client, outsider_client, organisation, reference_data, client
):
    referral = _save(counsellor_client)
    colleague = UserFactory(organisation=organisation, roles=[Role.COUNSELLOR])
    client.force_login(colleague)
    for other in (outsider_client, client):
        for path in (f"/referrals/{referral.pk}/", f"/referrals/{referral.pk}/handout/"):
            assert other.get(path).status_code == 404
        assert other.post(f"/referrals/{referral.pk}/choose/", {"group": "na"}).status_code == 404
    assert referral.reference not in outsider_client.get("/referrals/").content.decode()


@pytest.mark.parametrize(
    ("language", "heading", "advice"),
    [
        ("en", "Your peer support options", "try another one"),
        ("nb", 'lang="nb"', ""),
        ("nl", 'lang="nl"', ""),
    ],
)
def test_the_handout_is_in_the_patient_s_language(
    counsellor_client, reference_data, language, heading, advice
):
    referral = _save(counsellor_client, language=language)
    referral.chosen_group = "smart-recovery"
    referral.save()
    page = counsellor_client.get(f"/referrals/{referral.pk}/handout/").content.decode()
    assert heading in page
    assert "SMART Recovery" in page
    assert "handout.css" in page
    assert advice in page


@pytest.mark.parametrize("language", ["nb", "nl"])
def test_the_handout_is_translated(counsellor_client, reference_data, language):
    referral = _save(counsellor_client, language=language)
    path = f"/referrals/{referral.pk}/handout/"
    english = counsellor_client.get(f"{path}?language=en").content.decode()
    translated = counsellor_client.get(path).content.decode()
    advice = "If this group does not fit you, try another one."
    assert "Your peer support options" in english and advice in english
    assert "Your peer support options" not in translated and advice not in translated


def _grow_catalog(count: int, start: int) -> None:
    for number in range(start, start + count):
        group = GroupFactory(slug=f"extra-{number}", name=f"Extra {number}")
        TraitValueFactory(group=group)


@pytest.mark.parametrize("path", ["/referrals/new/", "/referrals/"])
def test_page_queries_do_not_grow_with_catalog_or_referrals(
    counsellor_client, reference_data, max_queries, path
):
    _save(counsellor_client, reference="P-1")
    with max_queries(20) as few:
        assert counsellor_client.get(path).status_code == 200
    _grow_catalog(20, 0)
    for number in range(10):
        _save(counsellor_client, reference=f"P-{number + 10}")
    with max_queries(few.number):
        assert counsellor_client.get(path).status_code == 200


def test_detail_and_handout_queries_are_bounded(counsellor_client, reference_data, max_queries):
    referral = _save(counsellor_client)
    with max_queries(12):
        counsellor_client.get(f"/referrals/{referral.pk}/")
    with max_queries(12):
        counsellor_client.get(f"/referrals/{referral.pk}/handout/")


def _disengaged(client, counsellor) -> Referral:
    referral = _save(client, previous_1_group="", previous_1_experience="")
    reasons = ["perceived-negative-focus", "conformity-pressure"]
    return disengaged_at_one_month(referral, counsellor, group="na", reasons=reasons)


def test_refer_again_opens_the_intake_with_the_answers_and_the_group_left(
    counsellor_client, counsellor, reference_data, django_assert_max_num_queries
):
    referral = _disengaged(counsellor_client, counsellor)
    page = counsellor_client.get(f"/referrals/{referral.pk}/").content.decode()
    assert f'href="/referrals/new/?again={referral.pk}"' in page
    assert "The answers this menu was made from" in page

    with django_assert_max_num_queries(30):
        response = counsellor_client.get(f"/referrals/new/?again={referral.pk}")
    form = response.context["form"]
    assert form["reference"].value() == "P-0042"
    assert form["previous_1_group"].value() == "na"
    assert form["previous_1_experience"].value() == "negative"  # conformity pressure
    assert form["previous_1_reasons"].value() == ["perceived-negative-focus", "conformity-pressure"]
    assert form["trauma_history"].value() is True
    menu = response.content.decode()
    assert "a reason the patient left Narcotics Anonymous" in menu
    assert "Left after a negative experience" in menu
    assert Referral.objects.count() == 1, "opening it saves nothing"


def test_refer_again_is_offered_only_after_disengagement_and_only_to_whoever_may_see_it(
    counsellor_client, counsellor, reference_data, other_organisation
):
    referral = _save(counsellor_client)
    page = counsellor_client.get(f"/referrals/{referral.pk}/").content.decode()
    assert "?again=" not in page
    outsider = UserFactory(organisation=other_organisation, roles=[Role.COUNSELLOR])
    assert _client_for(outsider).get(f"/referrals/new/?again={referral.pk}").status_code == 404


def test_a_menu_saved_in_one_language_reads_in_another_sources_included(
    counsellor_client, reference_data
):
    counsellor_client.post(
        "/referrals/new/", {**FORM, "country": "PT", "save": "1"}, HTTP_ACCEPT_LANGUAGE="nb"
    )
    referral = Referral.objects.get()
    sources = [
        part["source"]
        for option in referral.menu["options"]
        for part in option["parts"]
        if part["source"] and not part["source"]["title"].get("literal")
    ]
    # Kept as messages, not as the words of the language it was saved in.
    assert {"message": sources[0]["title"]["message"]} == {"message": "Catalog entry: %(name)s"}
    page = counsellor_client.get(f"/referrals/{referral.pk}/", HTTP_ACCEPT_LANGUAGE="en")
    assert "Catalog entry: " in page.content.decode()
    assert "Whether it meets in Portugal is not recorded" in page.content.decode()


def test_the_handout_names_the_study_behind_its_advice_once(counsellor_client, reference_data):
    referral = _save(counsellor_client)
    counsellor_client.post(
        f"/referrals/{referral.pk}/choose/", {"group": referral.options[0]["group"]}
    )
    page = counsellor_client.get(f"/referrals/{referral.pk}/handout/").content.decode()
    # The advice names its study, once for all the advice drawn from it.
    assert page.count("doi:10.1186/s13722-020-00191-w") == 1
    # The matcher's arithmetic stays on the counsellor's menu, off the patient's page.
    assert "How it was weighed" not in page


def test_an_intake_is_saved_once_however_often_it_is_sent(counsellor_client, reference_data):
    page = counsellor_client.get("/referrals/new/")
    key = page.context["form"]["intake_key"].value()
    assert f'value="{key}"' in page.content.decode()  # the page carries its intake's key
    # A double click, Enter twice, Back and Save again: the same intake sent again.
    first = counsellor_client.post("/referrals/new/", {**FORM, "intake_key": key, "save": "1"})
    again = counsellor_client.post(
        "/referrals/new/", {**FORM, "intake_key": key, "save": "1"}, follow=True
    )
    (referral,) = Referral.objects.all()
    assert first["Location"] == referral.get_absolute_url()
    assert again.redirect_chain[-1][0] == referral.get_absolute_url()
    assert "This intake was saved already, as the referral P-0042" in again.content.decode()
    # Another intake (a new page) is another referral.
    other = counsellor_client.get("/referrals/new/").context["form"]["intake_key"].value()
    assert other != key
    counsellor_client.post(
        "/referrals/new/", {**FORM, "reference": "P-0043", "intake_key": other, "save": "1"}
    )
    assert Referral.objects.count() == 2


def test_re_ranking_keeps_the_intakes_key(counsellor_client, reference_data):
    key = "6f1c2b1e-4c1a-4b8e-9d7a-0a5e0e8f9b10"
    response = counsellor_client.post(
        "/referrals/new/", {**FORM, "intake_key": key}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    page = counsellor_client.post("/referrals/new/", {**FORM, "intake_key": key, "age": "7"})
    assert f'value="{key}"' in page.content.decode()


def test_enter_in_a_field_cannot_save_the_intake(counsellor_client, reference_data):
    # The form's default button (the one Enter presses) is disabled and saves nothing.
    page = counsellor_client.get("/referrals/new/").content.decode()
    form = page[page.index('<form method="post" id="intake-form"') :]
    first_button = form[form.index("<button") : form.index(">", form.index("<button")) + 1]
    assert "disabled" in first_button and 'name="save"' not in first_button


def test_the_same_reference_saved_minutes_ago_asks_before_saving_another(
    counsellor_client, reference_data
):
    first = _save(counsellor_client)
    # Another intake (a fresh page) under the same reference, a few minutes later.
    response = counsellor_client.post("/referrals/new/", {**FORM, "save": "1"})
    page = response.content.decode()
    assert response.status_code == 200
    assert "A referral with the reference P-0042 was saved" in page
    assert first.get_absolute_url() in page
    assert Referral.objects.count() == 1, "nothing saved until the counsellor confirms"
    assert response.context["menu"] is not None, "the menu stays on the page"
    confirmed = counsellor_client.post(
        "/referrals/new/", {**FORM, "save": "1", "same_reference_confirmed": "1"}
    )
    assert confirmed.status_code == 302
    assert Referral.objects.count() == 2

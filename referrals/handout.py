"""The patient's handout: the chosen group, the alternatives, how to find meetings, and
practical advice drawn from what the studies' participants advised."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext, gettext_noop

from catalog.models import Group, TraitValue
from referrals.models import Referral
from studies.models import Finding


@dataclass(frozen=True)
class Advice:
    text: str
    finding: str  # the study finding it is drawn from (studies.Finding.key)
    trait: str | None = None  # shown when the chosen group carries this trait
    profile_flag: str | None = None  # …and, if set, when this profile answer is true


ADVICE: tuple[Advice, ...] = (
    Advice(
        gettext_noop(
            "Take your time before you share very personal things in a meeting. "
            "What is said in a group can travel further than the room."
        ),
        "advice-take-time-before-sharing",
        trait="narrative_sharing",
    ),
    Advice(
        gettext_noop(
            "You may change sponsor, or do without one, if the relationship does not help you."
        ),
        "you-can-change-sponsor",
        trait="sponsorship",
    ),
    Advice(
        gettext_noop(
            "If painful memories come up, for example while working the steps, talk to a "
            "professional you trust. You do not have to go through them with a sponsor."
        ),
        "step-five-trauma-survivors",
        trait="step_work",
        profile_flag="trauma_history",
    ),
    Advice(
        gettext_noop(
            "A relapse does not make you a failure. You are welcome back, and you can talk "
            "it over with your counsellor."
        ),
        "relapse-all-or-nothing",
        trait="total_abstinence",
    ),
    Advice(
        gettext_noop(
            "Questions about your medication belong with your doctor or counsellor, "
            "whatever others in a group may say."
        ),
        "psychiatric-comorbidity",
        profile_flag="psychiatric_comorbidity",
    ),
    Advice(
        gettext_noop(
            "A group can be a safe place. Over time, make room for life beyond it too: "
            "work, study, family and friends."
        ),
        "safe-place-becomes-cage",
    ),
    Advice(
        gettext_noop(
            "If this group does not fit you, try another one. One size does not fit all, "
            "and your counsellor can help you choose again."
        ),
        "advice-try-another-resource",
    ),
)


def advice_for(profile: Mapping[str, Any], carried: set[str]) -> list[dict[str, str]]:
    """The advice that applies, each with the study it is drawn from."""
    chosen = [
        item
        for item in ADVICE
        if (item.trait is None or item.trait in carried)
        and (item.profile_flag is None or profile.get(item.profile_flag))
    ]
    studies = {
        finding.key: finding.study
        for finding in Finding.objects.filter(key__in=[i.finding for i in chosen]).select_related(
            "study"
        )
    }
    return [
        {
            "text": gettext(item.text),
            "source": f"{studies[item.finding]}, doi:{studies[item.finding].doi}"
            if item.finding in studies
            else "",
        }
        for item in chosen
    ]


def handout_context(
    referral: Referral, groups: Mapping[str, Group], language: str
) -> dict[str, Any]:
    chosen = referral.chosen_option
    carried: set[str] = set()
    if chosen is not None:
        carried = set(
            TraitValue.objects.filter(
                group__slug=chosen["group"], value__in=("yes", "optional", "varies")
            ).values_list("trait__key", flat=True)
        )
    country = referral.profile.get("country")

    def entry(option: dict[str, Any]) -> dict[str, Any]:
        group = groups.get(option["group"])
        places = [
            place
            for place in (group.availability.all() if group else [])
            if not country or str(place.country) in (country, "")
        ]
        return {"option": option, "group": group, "places": places}

    alternatives = [
        entry(option)
        for option in referral.options
        if option["group"] != referral.chosen_group and not option.get("note")
    ]
    return {
        "referral": referral,
        "language": language,
        "chosen": entry(chosen) if chosen else None,
        "alternatives": alternatives,
        "complementary": referral.menu.get("complementary", []),
        "advice": advice_for(referral.profile, carried),
    }

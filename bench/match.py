"""Time the matcher in process on a 100-group catalog, and print the figures.

    .venv/bin/python bench/match.py

No database: the snapshot is built in memory, as the matcher receives it.
Target: under 5 ms per match.
"""

from __future__ import annotations

import os
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django

django.setup()

from catalog.vocabulary import VOCABULARY  # noqa: E402
from referrals.matching import (  # noqa: E402
    CatalogSnapshot,
    Evidence,
    Fact,
    FindingSnapshot,
    GroupSnapshot,
    Place,
    PreviousGroup,
    Profile,
    data_source,
    match,
)

GROUPS = 100
RUNS = 2000


def snapshot(rng: random.Random) -> CatalogSnapshot:
    source = data_source("Bench source", "https://example.org", "p. 1")
    kinds = ["twelve_step", "secular", "user_organisation", "recovery_ngo", "complementary"]
    groups = []
    for number in range(GROUPS):
        facts = {
            d.key: Fact(rng.choice(["yes", "no", "optional", "varies"]), source)
            for d in VOCABULARY
            if rng.random() < 0.6
        }
        places = tuple(
            Place(country, "", rng.choice([None, 5, 40]), "yes", ("nb", "en"), source)
            for country in rng.sample(["NO", "BE", "NL", "GB"], 2)
        )
        groups.append(
            GroupSnapshot(
                f"group-{number}", f"Group {number}", kinds[number % 5], ("en",), facts, places
            )
        )
    # Two findings per trait, one each way, with a quote, as the shipped studies have.
    findings = {
        f"{d.key}-{direction}": FindingSnapshot(
            f"{d.key}-{direction}",
            Evidence(
                "10.1/x",
                d.key,
                "What it means.",
                "Theme",
                "A quote of a whole clause.",
                ("Kari",),
                "Results",
            ),
            ((d.key, direction),),
        )
        for d in VOCABULARY
        for direction in ("supports", "caution")
    }
    return CatalogSnapshot(tuple(groups), findings)


def profiles(rng: random.Random) -> list[Profile]:
    return [
        Profile(
            reference=f"P-{number}",
            gender=rng.choice(["female", "male", "nonbinary", "unspecified"]),
            country=rng.choice([None, "NO", "BE"]),
            languages=("nb",),
            substances=tuple(rng.sample(["opioids", "alcohol", "cocaine", "cannabis"], 2)),  # type: ignore[arg-type]
            goal=rng.choice(["abstinence", "moderation", "undecided"]),
            on_medication_treatment=rng.random() < 0.5,
            psychiatric_comorbidity=rng.random() < 0.5,
            trauma_history=rng.random() < 0.5,
            spirituality=rng.choice(["welcome", "neutral", "averse"]),
            format=rng.choice(["sharing", "dialogue", "skills", "no_preference"]),
            wants_sponsor=rng.choice(["yes", "no", "no_preference"]),
            wants_social_activities=rng.random() < 0.5,
            attendance=rng.choice(["in_person", "online", "either"]),
            previous_groups=(
                PreviousGroup("group-3", "negative", ("perceived-negative-focus",)),
                PreviousGroup("group-8", "mixed", ("conformity-pressure",)),
            ),
            averse_to_labels=rng.random() < 0.5,
            recent_relapse=rng.random() < 0.5,
        )
        for number in range(50)
    ]


def main() -> None:
    rng = random.Random(42)
    catalog, people = snapshot(rng), profiles(rng)
    for profile in people[:10]:
        match(profile, catalog)  # warm up
    timings = []
    for run in range(RUNS):
        profile = people[run % len(people)]
        start = time.perf_counter()
        match(profile, catalog)
        timings.append((time.perf_counter() - start) * 1000)
    timings.sort()
    print(f"match, {GROUPS} groups, {RUNS} runs, in process")
    print(
        f"  mean {statistics.mean(timings):.2f} ms  p50 {timings[len(timings) // 2]:.2f} ms  "
        f"p95 {timings[int(len(timings) * 0.95)]:.2f} ms  max {timings[-1]:.2f} ms  (target < 5 ms)"
    )


if __name__ == "__main__":
    main()

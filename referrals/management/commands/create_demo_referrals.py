"""Demo referrals with follow-ups for trying the dashboard out: seeded, so the same
arguments give the same data. Every reference and name is made up."""

from __future__ import annotations

import datetime
import random
from typing import Any

from django.conf import settings
from django.contrib.auth.models import Group as RoleGroup
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils import timezone

from accounts.models import Organisation, User
from accounts.roles import Role
from referrals import tallies
from referrals.followup import (
    DUE_AFTER,
    REASON_THEMES,
    Checkpoint,
    Outcome,
    Recorded,
)
from referrals.matching import COMPLEMENTARY, TWELVE_STEP, CatalogSnapshot, Menu, match
from referrals.models import FollowUp, FollowUpReason, Referral
from referrals.profile import parse_profile
from referrals.record import menu_record
from referrals.services import apply_status
from referrals.snapshot import current_snapshot

# Made-up staff of the demo clinic, with the habit each brings to the choice:
# (username, first name, the group they steer patients to, how often).
COUNSELLORS = (
    ("ingrid", "Ingrid", "na", 0.7),
    ("jonas", "Jonas", "", 0.0),
    ("sofie", "Sofie", "", 0.0),
    ("emil", "Emil", "aa", 0.3),
)
PROFILE_POOL = 300
BATCH = 2000


def _profile(rng: random.Random, reference: str, slugs: list[str]) -> dict[str, Any]:
    gender = rng.choices(["male", "female", "nonbinary", "unspecified"], [58, 38, 2, 2])[0]
    substances = rng.sample(
        ["opioids", "alcohol", "cocaine", "methamphetamine", "cannabis", "benzodiazepines"],
        rng.choice([1, 1, 2, 3]),
    )
    previous = []
    if rng.random() < 0.3:
        previous.append(
            {
                "group": rng.choice(slugs),
                "experience": rng.choices(["positive", "mixed", "negative"], [3, 4, 3])[0],
            }
        )
    return {
        "reference": reference,
        "gender": gender,
        "age": rng.randint(18, 70),
        "country": "NO",
        "languages": ["nb", "en"] if rng.random() < 0.4 else ["nb"],
        "substances": substances,
        "goal": rng.choices(["abstinence", "moderation", "undecided"], [6, 2, 2])[0],
        "on_medication_treatment": "opioids" in substances and rng.random() < 0.5,
        "psychiatric_comorbidity": rng.random() < 0.35,
        "trauma_history": rng.random() < 0.25,
        "spirituality": rng.choices(["welcome", "neutral", "averse"], [3, 5, 2])[0],
        "format": rng.choice(["sharing", "dialogue", "skills", "no_preference"]),
        "wants_sponsor": rng.choice(["yes", "no", "no_preference"]),
        "wants_social_activities": rng.random() < 0.4,
        "prefers_women_only": gender == "female" and rng.random() < 0.2,
        "attendance": rng.choices(["in_person", "online", "either"], [5, 1, 4])[0],
        "previous_groups": previous,
    }


class Command(BaseCommand):
    help = (
        "Create a demo organisation's counsellors and N referrals with follow-ups over the "
        "past 18 months (seeded random: the same arguments give the same data)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--referrals", type=int, default=600, help="How many (default 600).")
        parser.add_argument("--seed", type=int, default=2026, help="Random seed (default 2026).")
        parser.add_argument(
            "--organisation", default="demo-clinic", help="Organisation slug (default demo-clinic)."
        )
        parser.add_argument(
            "--replace",
            action="store_true",
            help="Delete the organisation's referrals first; otherwise an organisation that "
            "has referrals is left as it is.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG:
            raise CommandError("Demo data is for trying the project out; refusing with DEBUG off.")
        if options["referrals"] < 0:
            raise CommandError("--referrals must be 0 or more.")
        snapshot = current_snapshot()
        if not snapshot.groups:
            raise CommandError("The catalog is empty: run load_reference_data first.")
        with transaction.atomic():
            organisation, _created = Organisation.objects.get_or_create(
                slug=options["organisation"],
                defaults={
                    "name": options["organisation"].replace("-", " ").title(),
                    "country": "NO",
                },
            )
            existing = Referral.objects.filter(organisation=organisation)
            if existing.exists() and not options["replace"]:
                self.stdout.write(
                    f"{organisation} already has {existing.count()} referrals; "
                    "left as they are (--replace to generate them again)."
                )
                return
            existing.delete()
            counsellors = self._counsellors(organisation)
            made = self._referrals(
                organisation, counsellors, snapshot, options["referrals"], options["seed"]
            )
            # Written in bulk, around the services that keep the tallies.
            tallies.rebuild([organisation.pk])
        self.stdout.write(f"Created {made} demo referrals at {organisation}.")

    def _counsellors(self, organisation: Organisation) -> list[tuple[User, str, float]]:
        role = RoleGroup.objects.get(name=Role.COUNSELLOR)
        staff = []
        demo = User.objects.filter(username="counsellor", organisation=organisation).first()
        if demo is not None:
            staff.append((demo, "", 0.0))
        for username, first_name, habit, strength in COUNSELLORS:
            user, created = User.objects.get_or_create(
                username=f"{organisation.slug}-{username}",
                defaults={"first_name": first_name, "organisation": organisation},
            )
            if created:
                user.set_unusable_password()
                user.save(update_fields=["password"])
            user.groups.add(role)
            staff.append((user, habit, strength))
        return staff

    def _referrals(
        self,
        organisation: Organisation,
        counsellors: list[tuple[User, str, float]],
        snapshot: CatalogSnapshot,
        count: int,
        seed: int,
    ) -> int:
        rng = random.Random(seed)
        slugs = [g.slug for g in snapshot.groups if g.kind != COMPLEMENTARY]
        twelve_step = frozenset(g.slug for g in snapshot.groups if g.kind == TWELVE_STEP)
        menus: list[tuple[dict[str, Any], Menu]] = []
        for i in range(min(count, PROFILE_POOL)):
            profile = _profile(rng, f"D-{i:05d}", slugs)
            menus.append((profile, match(parse_profile(profile), snapshot)))
        now = timezone.now()
        today = timezone.localdate()
        made = 0
        for start in range(0, count, BATCH):
            referrals, plans = [], []
            for number in range(start, min(start + BATCH, count)):
                profile, menu = menus[rng.randrange(len(menus))]
                counsellor, habit, strength = counsellors[rng.randrange(len(counsellors))]
                created_at = now - datetime.timedelta(minutes=rng.randrange(548 * 24 * 60))
                reference = f"D-{number + 1:05d}"
                referral = Referral(
                    organisation=organisation,
                    counsellor=counsellor,
                    reference=reference,
                    language=rng.choices(["nb", "en", "nl"], [8, 2, 0])[0],
                    profile={**profile, "reference": reference},
                    menu={**menu_record(menu), "reference": reference},
                    country=profile["country"],
                    first_ranked=menu.options[0].group if menu.options else "",
                    offered_non_twelve_step=any(o.kind != TWELVE_STEP for o in menu.options),
                    chosen_group=self._choice(rng, menu, habit, strength),
                )
                referrals.append(referral)
                plans.append((referral, counsellor, created_at))
            Referral.objects.bulk_create(referrals)
            # created_at is set on insert; the demo spreads it over the past.
            follow_ups: list[FollowUp] = []
            reasons: list[tuple[FollowUp, str]] = []
            for referral, counsellor, created_at in plans:
                referral.created_at = created_at
                recorded = self._follow_ups(
                    rng, referral, counsellor, created_at, today, twelve_step
                )
                follow_ups.extend(f for f, _codes in recorded)
                reasons.extend((f, code) for f, codes in recorded for code in codes)
                apply_status(
                    referral,
                    [Recorded(f.checkpoint, f.outcome) for f, _codes in recorded],
                    today=recorded[-1][0].recorded_at.date() if recorded else None,
                )
            Referral.objects.bulk_update(
                referrals,
                [
                    "created_at",
                    "attended",
                    "engaged_one_month",
                    "engaged_three_months",
                    "disengaged",
                    "follow_up_due_on",
                    "closed_on",
                ],
            )
            stamps = {id(f): f.recorded_at for f in follow_ups}
            FollowUp.objects.bulk_create(follow_ups)
            for follow_up in follow_ups:
                follow_up.recorded_at = stamps[id(follow_up)]
            FollowUp.objects.bulk_update(follow_ups, ["recorded_at"])
            FollowUpReason.objects.bulk_create(
                FollowUpReason(follow_up=f, code=code) for f, code in reasons
            )
            made += len(referrals)
        return made

    def _choice(self, rng: random.Random, menu: Menu, habit: str, strength: float) -> str:
        if rng.random() < 0.12:
            return ""  # no choice recorded
        slugs = [o.group for o in menu.options]
        if habit in slugs and rng.random() < strength:
            return habit
        return rng.choices(slugs, [6, 3, 2, 1, 1, 1][: len(slugs)] + [1] * (len(slugs) - 6))[0]

    def _follow_ups(
        self,
        rng: random.Random,
        referral: Referral,
        counsellor: User,
        created_at: datetime.datetime,
        today: datetime.date,
        twelve_step_groups: frozenset[str],
    ) -> list[tuple[FollowUp, list[str]]]:
        """Follow-ups for the checkpoints already past, mostly recorded on time."""
        if not referral.chosen_group:
            return []
        recorded: list[tuple[FollowUp, list[str]]] = []
        twelve_step = referral.chosen_group in twelve_step_groups

        def past(checkpoint: str) -> datetime.datetime | None:
            when = created_at + DUE_AFTER[checkpoint] + datetime.timedelta(days=rng.randint(0, 6))
            if when.date() > today or rng.random() < 0.08:
                return None  # not yet due, or not yet asked
            return when

        def add(checkpoint: str, outcome: str, when: datetime.datetime, **extra: Any) -> None:
            codes = extra.pop("codes", [])
            follow_up = FollowUp(
                referral=referral,
                checkpoint=checkpoint,
                outcome=outcome,
                recorded_by=counsellor,
                recorded_at=when,
                **extra,
            )
            recorded.append((follow_up, codes))

        when = past(Checkpoint.FIRST_MEETING)
        if when is None:
            return recorded
        if rng.random() > 0.78:
            add(Checkpoint.FIRST_MEETING, Outcome.NOT_ATTENDED, when)
            return recorded
        first = (created_at + datetime.timedelta(days=rng.randint(1, 12))).date()
        add(Checkpoint.FIRST_MEETING, Outcome.ATTENDED, when, first_meeting_on=min(first, today))
        for checkpoint, stays in ((Checkpoint.ONE_MONTH, 0.75), (Checkpoint.THREE_MONTHS, 0.7)):
            when = past(checkpoint)
            if when is None:
                return recorded
            if rng.random() < stays:
                add(checkpoint, Outcome.ENGAGED, when)
                continue
            add(checkpoint, Outcome.DISENGAGED, when, codes=self._reasons(rng, twelve_step))
            return recorded
        return recorded

    def _reasons(self, rng: random.Random, twelve_step: bool) -> list[str]:
        weights = [5, 4, 3, 2] if twelve_step else [2, 2, 3, 4]
        themes = rng.choices(REASON_THEMES, weights, k=rng.choice([1, 1, 2]))
        return list(dict.fromkeys(rng.choice(theme.codes)[0] for theme in themes))

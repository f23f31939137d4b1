"""Invented example meetings for the demo organisation, so that a demonstration shows
meetings on the menu and the handout. They are the demo organisation's own (nobody
else sees them) and marked as examples wherever they appear; the catalog's reference
data holds only meetings imported from real feeds."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction

from accounts.models import Organisation
from catalog.models import Group, Meeting, MeetingSlot

OSLO = "Europe/Oslo"
# (group, name, weekday Monday=0, start, place fields)
EXAMPLES: tuple[tuple[str, str, int, str, dict[str, Any]], ...] = (
    (
        "na",
        "Example — NA Drammen",
        1,
        "19:00",
        {
            "address": "Example street 1",
            "municipality": "Drammen",
            "latitude": 59.7441,
            "longitude": 10.2050,
            "openness": "open",
        },
    ),
    (
        "aa",
        "Example — AA Drammen",
        3,
        "18:30",
        {
            "address": "Example street 2",
            "municipality": "Drammen",
            "latitude": 59.7429,
            "longitude": 10.2101,
            "openness": "closed",
        },
    ),
    (
        "smart-recovery",
        "Example — SMART Recovery Drammen",
        2,
        "17:30",
        {
            "address": "Example street 3",
            "municipality": "Drammen",
            "latitude": 59.7450,
            "longitude": 10.1980,
        },
    ),
    (
        "na",
        "Example — NA Oslo",
        4,
        "19:30",
        {
            "address": "Example street 4",
            "municipality": "Oslo",
            "latitude": 59.9139,
            "longitude": 10.7522,
            "openness": "open",
        },
    ),
    (
        "na",
        "Example — NA women's meeting Oslo",
        2,
        "18:00",
        {
            "address": "Example street 5",
            "municipality": "Oslo",
            "latitude": 59.9170,
            "longitude": 10.7400,
            "openness": "closed",
            "women_only": True,
        },
    ),
    (
        "wfs",
        "Example — Women for Sobriety online",
        3,
        "19:00",
        {
            "attendance": "online",
            "online_url": "https://meet.example.org/wfs",
            "women_only": True,
        },
    ),
    (
        "aa",
        "Example — AA online",
        0,
        "20:00",
        {"attendance": "online", "online_url": "https://meet.example.org/aa"},
    ),
    (
        "smart-recovery",
        "Example — SMART Recovery online",
        5,
        "11:00",
        {"attendance": "online", "online_url": "https://meet.example.org/smart"},
    ),
)


class Command(BaseCommand):
    help = (
        "Create invented example meetings for the demo organisation (Demo Clinic), marked "
        "as examples. Running it again changes nothing."
    )

    @transaction.atomic
    def handle(self, *args: Any, **options: Any) -> None:
        organisation = Organisation.objects.filter(slug="demo-clinic").first()
        if organisation is None:
            self.stderr.write("No demo organisation: run create_demo_users first.")
            return
        groups = {
            group.slug: group for group in Group.objects.filter(slug__in={e[0] for e in EXAMPLES})
        }
        created = 0
        for slug, name, weekday, starts, fields in EXAMPLES:
            if slug not in groups:
                continue
            meeting, made = Meeting.objects.get_or_create(
                organisation=organisation,
                name=name,
                defaults={
                    "group": groups[slug],
                    "is_example": True,
                    "languages": "nb",
                    "country": "" if fields.get("attendance") else "NO",
                    **fields,
                },
            )
            if made:
                MeetingSlot.objects.create(
                    meeting=meeting,
                    weekday=weekday,
                    starts=dt.time.fromisoformat(starts),
                    timezone=OSLO,
                )
                created += 1
        self.stdout.write(f"Example meetings: {created} created for {organisation}.")

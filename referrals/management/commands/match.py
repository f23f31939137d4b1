from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils import translation

from referrals.matching import match
from referrals.meetings import locate, menu_meetings
from referrals.profile import ProfileError, check_against_catalog, parse_profile
from referrals.serialise import menu_json
from referrals.snapshot import current_snapshot


class Command(BaseCommand):
    help = "Print the menu for a profile: match PROFILE.json (or - to read standard input)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("profile", help="A profile as JSON, or - for standard input.")
        parser.add_argument(
            "--language", default="en", help="Language of the reasons: en, nb or nl."
        )
        parser.add_argument(
            "--country",
            default="",
            help="The clinic's country (ISO code), to tell apart places of the same name.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path = options["profile"]
        try:
            raw = sys.stdin.buffer.read() if path == "-" else Path(path).read_bytes()
        except OSError as error:
            self.stderr.write(f"profile: cannot read {path}: {error.strerror}")
            sys.exit(2)
        with translation.override(options["language"]):
            try:
                profile = parse_profile(raw)
                snapshot = current_snapshot()
                check_against_catalog(profile, snapshot)
                where = locate(profile, country=options["country"])
            except ProfileError as error:
                for field, message in error.errors:
                    self.stderr.write(f"{field}: {message}")
                sys.exit(2)
            menu = match(profile, snapshot)
            # Reference meetings only: no organisation's own meetings outside the app.
            meetings = menu_meetings(menu, profile, where, organisation_id=None)
            self.stdout.write(json.dumps(menu_json(menu, meetings), ensure_ascii=False, indent=2))

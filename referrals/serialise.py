"""The menu as the contract's JSON."""

from __future__ import annotations

from typing import Any

from referrals.matching import Menu


def menu_json(menu: Menu) -> dict[str, Any]:
    return {
        "reference": menu.reference,
        "options": [
            {
                "group": option.group,
                "name": option.name,
                "rank": option.rank,
                "score": option.score,
                "fit": [str(part.text) for part in option.fit],
                "cautions": [
                    *([str(option.note)] if option.note else []),
                    *(str(part.text) for part in option.cautions),
                ],
                "evidence": [
                    {
                        "study": item.study,
                        "theme": item.theme,
                        "quote": item.quote,
                        "speaker": item.speaker,
                    }
                    for item in option.evidence
                ],
            }
            for option in menu.options
        ],
        "complementary": [
            {"group": item.group, "reason": str(item.reason)} for item in menu.complementary
        ],
        "excluded": [{"group": item.group, "reason": str(item.reason)} for item in menu.excluded],
    }

"""One way to import: read within limits, find every problem in one pass, preview, apply.

Every importer (the catalog, the studies, the meeting feeds) goes through this
module:

1. *Read* the uploaded or fetched bytes into Python values within bounds on size,
   nesting depth and decompression (``read_json``, ``read_zip``, ``read_csv``).
2. *Check* every row, collecting ``Problem``s located by names a curator knows
   (a group, a trait, a meeting, a row number), never by JSON paths.
3. *Plan*: the ``Change``s the document would make, shown as a preview.
4. *Apply* the plan in one transaction.

A document that cannot be imported raises ``ImportRefused`` with all its problems.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from django.db import transaction


@dataclass(frozen=True)
class Problem:
    """What is wrong (``message``) and where, in a curator's words (``where``)."""

    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}" if self.where else self.message


class ImportRefused(Exception):
    """A document that cannot be imported; ``problems`` says every reason found."""

    def __init__(self, problems: Iterable[Problem | str]) -> None:
        self.problems = [p if isinstance(p, Problem) else Problem("", p) for p in problems]
        super().__init__("\n".join(self.errors))

    @property
    def errors(self) -> list[str]:
        return [str(problem) for problem in self.problems]


class Problems:
    """Collects problems while checking a whole document."""

    def __init__(self) -> None:
        self.items: list[Problem] = []

    def add(self, where: str, message: str) -> None:
        self.items.append(Problem(where, message))

    def __bool__(self) -> bool:
        return bool(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def __iter__(self) -> Any:
        return iter(self.items)

    def refuse_if_any(self) -> None:
        if self.items:
            raise ImportRefused(self.items)


Action = Literal["create", "update", "retire", "delete", "unchanged"]


@dataclass(frozen=True)
class Change:
    """One row the plan creates, updates, retires or deletes, named for a curator."""

    action: Action
    kind: str  # e.g. "group", "trait value", "meeting" (translated when shown)
    name: str  # e.g. "Narcotics Anonymous — Sponsorship"
    fields: tuple[str, ...] = ()  # labels of the fields an update changes


@dataclass
class Plan:
    """What a document would change; ``apply`` makes it so in one transaction.

    ``skipped`` holds problems with single rows that did not stop the others (a
    meeting feed's bad row); a document with problems that stop it never becomes a
    plan: it raises ``ImportRefused`` instead.
    """

    changes: list[Change]
    write: Callable[[], Any]
    skipped: list[Problem] = field(default_factory=list)

    @property
    def counts(self) -> Counter[str]:
        return Counter(change.action for change in self.changes)

    @property
    def changing(self) -> list[Change]:
        return [change for change in self.changes if change.action != "unchanged"]

    def apply(self) -> Any:
        with transaction.atomic():
            return self.write()

"""The import engine's plain parts, without the database: problems, plans, previews."""

from __future__ import annotations

from curation.imports import Change, ImportRefused, Plan, Problem, Problems, sections


def test_a_refusal_says_every_problem_with_where_it_is():
    refused = ImportRefused([Problem("Group “na”", "unknown kind."), "The file is empty."])
    assert refused.errors == ["Group “na”: unknown kind.", "The file is empty."]
    assert str(refused) == "Group “na”: unknown kind.\nThe file is empty."


def test_problems_are_collected_then_refused_together():
    problems = Problems()
    problems.refuse_if_any()  # nothing yet
    problems.add("groups.csv line 2 (group “na”)", "a known value needs a source.")
    problems.add("groups.csv line 3 (group “aa”)", "a known value needs a source.")
    try:
        problems.refuse_if_any()
    except ImportRefused as refused:
        assert len(refused.problems) == 2
    else:
        raise AssertionError("refused nothing")


def _plan(*changes: Change) -> Plan:
    return Plan(changes=list(changes), write=lambda: None)


def test_a_plans_digest_follows_what_it_changes_not_what_it_leaves():
    create = Change("create", "group", "Group “na”")
    update = Change("update", "trait value", "Group “aa”, trait “sponsorship”", ("value",))
    same = Change("unchanged", "group", "Group “aa”")
    assert _plan(create, update).digest == _plan(create, update, same).digest
    assert _plan(create, update).digest != _plan(create).digest
    other_field = Change("update", "trait value", update.name, ("note",))
    assert _plan(create, update).digest != _plan(create, other_field).digest


def test_a_preview_groups_changes_by_kind_creations_first_and_counts_every_row():
    changes = [
        Change("unchanged", "group", "Group “aa”"),
        Change("delete", "trait value", "Group “na”, trait “higher_power”"),
        Change("create", "group", "Group “new”"),
        Change("update", "trait value", "Group “na”, trait “sponsorship”", ("value",)),
        Change("create", "trait value", "Group “new”, trait “sponsorship”"),
    ]
    groups, values = sections(changes)
    assert (groups.kind, groups.created, groups.updated, groups.removed, groups.unchanged) == (
        "group",
        1,
        0,
        0,
        1,
    )
    assert [change.name for change in groups.shown] == ["Group “new”"]
    assert [change.action for change in values.shown] == ["create", "update", "delete"]
    assert (values.created, values.updated, values.removed) == (1, 1, 1)


def test_a_long_preview_shows_the_first_rows_and_counts_the_rest():
    changes = [Change("create", "trait value", f"Group “g{n}”, trait “x”") for n in range(250)]
    (section,) = sections(changes, limit=100)
    assert len(section.shown) == 100
    assert section.hidden == 150

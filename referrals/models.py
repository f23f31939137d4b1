from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from accounts.models import Organisation
from referrals.followup import REASON_CHOICES, Checkpoint, Outcome
from referrals.pseudonym import validate_reference


class ReferralQuerySet(models.QuerySet["Referral"]):
    def counted(self) -> ReferralQuerySet:
        """The referrals that count: all but those voided as mistakes (the tallies,
        the dashboard's lists and the repeat warning read these)."""
        return self.filter(voided_at__isnull=True)

    def visible_to(self, user: Any) -> ReferralQuerySet:
        """A counsellor sees their own referrals; a supervisor their organisation's."""
        from accounts.roles import Role

        mine = self.filter(organisation_id=user.organisation_id)
        if user.has_role(Role.SUPERVISOR):
            return mine
        return mine.filter(counsellor=user)


class VoidReason(models.TextChoices):
    """Why a referral was voided."""

    ENTERED_IN_ERROR = "entered_in_error", _("Entered in error")
    DUPLICATE = "duplicate", _("A duplicate of another referral")
    WRONG_REFERENCE = "wrong_reference", _("Saved under the wrong reference")
    OTHER = "other", _("Other")


class Referral(models.Model):
    """A menu saved under a pseudonymous reference, as it was shown, and the choice made."""

    class Language(models.TextChoices):
        ENGLISH = "en", _("English")
        NORWEGIAN = "nb", _("Norwegian Bokmål")
        DUTCH = "nl", _("Dutch")

    VoidReason = VoidReason

    organisation = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        related_name="referrals",
        verbose_name=_("organisation"),
    )
    counsellor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="referrals",
        verbose_name=_("counsellor"),
    )
    reference = models.CharField(
        _("reference"),
        max_length=40,
        help_text=_("A pseudonymous reference such as P-0042; never a name."),
        validators=[validate_reference],
    )
    language = models.CharField(
        _("handout language"), max_length=2, choices=Language.choices, default=Language.ENGLISH
    )
    profile = models.JSONField(_("profile"))
    menu = models.JSONField(_("menu as shown"))
    chosen_group = models.CharField(_("chosen group"), max_length=50, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    # Read from the profile and the menu when saved (neither changes afterwards), so
    # that dashboards aggregate plain indexed columns instead of JSON.
    country = models.CharField(_("country"), max_length=2, blank=True)
    first_ranked = models.CharField(_("first-ranked group"), max_length=50, blank=True)
    offered_non_twelve_step = models.BooleanField(
        _("menu offered a non-twelve-step group"), default=False
    )
    # What the follow-ups add up to (referrals.followup.status), kept by
    # referrals.services on every follow-up.
    attended = models.BooleanField(_("attended a first meeting"), null=True, blank=True)
    engaged_one_month = models.BooleanField(_("engaged at one month"), null=True, blank=True)
    engaged_three_months = models.BooleanField(_("engaged at three months"), null=True, blank=True)
    disengaged = models.BooleanField(_("disengaged"), default=False)
    follow_up_due_on = models.DateField(_("next follow-up due"), null=True, blank=True)
    closed_on = models.DateField(
        _("closed"),
        null=True,
        blank=True,
        help_text=_("The day the last follow-up settled the outcome."),
    )
    # Set when the retention period ran out: the reference, the profile and the menu's
    # reasons are gone; what the dashboard counts (groups, outcomes, dates) stays.
    anonymised_on = models.DateField(_("anonymised"), null=True, blank=True)
    # Given to the intake page when it is opened and sent back with its save: a second
    # save of the same intake (a double click, Enter twice, Back and Save again, two
    # requests racing) finds the referral the first one made.
    intake_key = models.UUIDField(_("intake"), null=True, blank=True, editable=False)
    # A referral saved by mistake is voided, not deleted: it stays in the counsellor's
    # list and the access log, and counts nowhere (referrals.tallies).
    voided_at = models.DateTimeField(_("voided"), null=True, blank=True)
    voided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("voided by"),
    )
    void_reason = models.CharField(
        _("reason for voiding"), max_length=20, choices=VoidReason.choices, blank=True
    )
    void_note = models.CharField(_("note on voiding"), max_length=200, blank=True)

    objects = ReferralQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("referral")
        verbose_name_plural = _("referrals")
        permissions = [
            ("view_dashboard", _("Can view the dashboard of referral patterns")),
            (
                "manage_subject_data",
                _("Can export and erase everything held under a reference"),
            ),
            ("void_referral", _("Can void a referral saved by mistake")),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(language__in=["en", "nb", "nl"]),
                name="referrals_referral_language_valid",
            ),
            models.CheckConstraint(
                condition=Q(voided_at__isnull=True, void_reason="")
                | Q(voided_at__isnull=False, void_reason__in=VoidReason.values),
                name="referrals_referral_void_has_reason",
            ),
            models.UniqueConstraint(
                fields=["organisation", "intake_key"],
                condition=Q(intake_key__isnull=False),
                name="referrals_referral_one_per_intake",
            ),
        ]
        indexes = [
            # "My referrals": a counsellor's newest first, and search by reference.
            models.Index(fields=["counsellor", "-created_at"], name="referral_counsellor_recent"),
            models.Index(fields=["organisation", "reference"], name="referral_org_reference"),
            # The dashboard: every chart reads one organisation's referrals of a period.
            models.Index(fields=["organisation", "created_at"], name="referral_org_created"),
            # Reasons for disengaging: the dashboard starts from the disengaged few.
            models.Index(
                fields=["organisation", "created_at"],
                condition=Q(disengaged=True),
                name="referral_org_disengaged",
            ),
            # Retention: the closed referrals not yet anonymised.
            models.Index(
                fields=["closed_on"],
                condition=Q(anonymised_on__isnull=True),
                name="referral_retention",
            ),
            # The follow-ups due for each counsellor.
            models.Index(
                fields=["counsellor", "follow_up_due_on"],
                condition=Q(follow_up_due_on__isnull=False),
                name="referral_follow_up_due",
            ),
        ]

    def __str__(self) -> str:
        return self.shown_reference

    def get_absolute_url(self) -> str:
        return reverse("referrals:referral-detail", args=[self.pk])

    @property
    def shown_reference(self) -> str:
        """The reference, or a stand-in once retention has removed it."""
        if self.reference:
            return self.reference
        return str(_("Anonymised referral %(number)s") % {"number": self.pk})

    @property
    def voided(self) -> bool:
        return self.voided_at is not None

    @property
    def options(self) -> list[dict[str, Any]]:
        options: list[dict[str, Any]] = self.menu.get("options", [])
        return options

    @property
    def next_checkpoint(self) -> str | None:
        """The checkpoint whose follow-up is due next, if any."""
        if self.follow_up_due_on is None:
            return None
        if self.attended is None:
            return Checkpoint.FIRST_MEETING
        if self.engaged_one_month is None:
            return Checkpoint.ONE_MONTH
        return Checkpoint.THREE_MONTHS

    def get_next_checkpoint_display(self) -> str:
        checkpoint = self.next_checkpoint
        return str(Checkpoint(checkpoint).label) if checkpoint else ""

    @property
    def chosen_option(self) -> dict[str, Any] | None:
        return next((o for o in self.options if o["group"] == self.chosen_group), None)


class FollowUp(models.Model):
    """How a referral turned out at one checkpoint, and who recorded it."""

    referral = models.ForeignKey(
        Referral,
        on_delete=models.CASCADE,
        related_name="follow_ups",
        verbose_name=_("referral"),
    )
    checkpoint = models.CharField(_("checkpoint"), max_length=20, choices=Checkpoint.choices)
    outcome = models.CharField(_("outcome"), max_length=20, choices=Outcome.choices)
    first_meeting_on = models.DateField(_("date of the first meeting"), null=True, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("recorded by"),
    )
    recorded_at = models.DateTimeField(_("recorded"), auto_now=True)
    # The contact with the patient (or the group) a follow-up recorded before it falls
    # due rests on (referrals.followup.timing_problem).
    contacted_on = models.DateField(_("date of the contact"), null=True, blank=True)

    class Meta:
        ordering = ["referral", "recorded_at"]
        verbose_name = _("follow-up")
        verbose_name_plural = _("follow-ups")
        constraints = [
            models.UniqueConstraint(
                fields=["referral", "checkpoint"], name="referrals_followup_one_per_checkpoint"
            ),
            models.CheckConstraint(
                condition=(
                    Q(
                        checkpoint=Checkpoint.FIRST_MEETING,
                        outcome__in=[Outcome.ATTENDED, Outcome.NOT_ATTENDED],
                    )
                    | Q(
                        checkpoint__in=[Checkpoint.ONE_MONTH, Checkpoint.THREE_MONTHS],
                        outcome__in=[Outcome.ENGAGED, Outcome.DISENGAGED],
                    )
                ),
                name="referrals_followup_outcome_fits_checkpoint",
            ),
            models.CheckConstraint(
                condition=Q(outcome=Outcome.ATTENDED, first_meeting_on__isnull=False)
                | (~Q(outcome=Outcome.ATTENDED) & Q(first_meeting_on__isnull=True)),
                name="referrals_followup_date_when_attended",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.referral}: {self.get_checkpoint_display()}"


class FollowUpReason(models.Model):
    """One coded reason for disengaging (referrals.followup.REASON_THEMES)."""

    follow_up = models.ForeignKey(
        FollowUp, on_delete=models.CASCADE, related_name="reasons", verbose_name=_("follow-up")
    )
    code = models.CharField(_("reason"), max_length=60, choices=REASON_CHOICES)

    class Meta:
        ordering = ["follow_up", "id"]
        verbose_name = _("reason for disengaging")
        verbose_name_plural = _("reasons for disengaging")
        constraints = [
            models.UniqueConstraint(
                fields=["follow_up", "code"], name="referrals_followupreason_unique"
            ),
        ]

    def __str__(self) -> str:
        return self.get_code_display()


class Grain(models.TextChoices):
    """How long a tally's period is: a month (what the dashboard's months add up) or a
    day (for the days of a period that starts or ends inside a month)."""

    MONTH = "month", _("month")
    DAY = "day", _("day")


class TallyQuerySet(models.QuerySet[Any]):
    def visible_to(self, user: Any) -> TallyQuerySet:
        """The counts of the referrals the user may see (ReferralQuerySet.visible_to)."""
        from accounts.roles import Role

        mine = self.filter(organisation_id=user.organisation_id)
        if user.has_role(Role.SUPERVISOR):
            return mine
        return mine.filter(counsellor=user)


def _tally_indexes(label: str) -> list[models.Index]:
    return [
        # The dashboard's months (its periods are mostly whole months): an index of the
        # month rows only, a tenth of the table, which the planner takes where the
        # unique index over days and months looks no better than scanning it all.
        models.Index(
            fields=["organisation", "start"],
            condition=Q(grain=Grain.MONTH),
            name=f"referrals_{label}_months",
        ),
    ]


def _tally_constraints(label: str, key: list[str]) -> list[models.BaseConstraint]:
    return [
        # Its index serves the dashboard: one organisation's months (and days) of a period.
        models.UniqueConstraint(
            fields=["organisation", "grain", "start", *key], name=f"referrals_{label}_one_per_key"
        ),
        models.CheckConstraint(
            condition=Q(grain=Grain.DAY) | Q(grain=Grain.MONTH, start__day=1),
            name=f"referrals_{label}_grain_valid",
        ),
    ]


class TallyBase(models.Model):
    """What both tallies count by: an organisation's period, counsellor, country and
    chosen group."""

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="+", verbose_name=_("organisation")
    )
    grain = models.CharField(_("period"), max_length=5, choices=Grain.choices)
    # The first day counted, of Referral.created_at in the site's time zone.
    start = models.DateField(_("from"))
    counsellor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("counsellor"),
    )
    country = models.CharField(_("country"), max_length=2, blank=True)
    chosen_group = models.CharField(_("chosen group"), max_length=50, blank=True)
    referrals = models.PositiveIntegerField(_("referrals"), default=0)

    objects = TallyQuerySet.as_manager()

    class Meta:
        abstract = True


class Tally(TallyBase):
    """Referrals of one month, or of one day, counted by what the dashboard shows and
    filters by, so that it adds up a few thousand counts instead of a million referrals.

    Every referral counts in the tally of its month and in that of its day. Kept by
    referrals.tallies in the transaction of every write of a referral; counted afresh
    from the referrals by `manage.py rebuild_tallies`.
    """

    first_ranked = models.CharField(_("first-ranked group"), max_length=50, blank=True)
    # Of `referrals`, how many ...
    offered_non_twelve_step = models.PositiveIntegerField(
        _("menu offered a non-twelve-step group"), default=0
    )
    awaiting = models.PositiveIntegerField(_("awaiting the first follow-up"), default=0)
    attended = models.PositiveIntegerField(_("attended a first meeting"), default=0)
    not_attended = models.PositiveIntegerField(_("did not attend"), default=0)
    engaged_one_month = models.PositiveIntegerField(_("engaged at one month"), default=0)
    engaged_three_months = models.PositiveIntegerField(_("engaged at three months"), default=0)
    disengaged = models.PositiveIntegerField(_("disengaged"), default=0)

    class Meta:
        verbose_name = _("tally of referrals")
        verbose_name_plural = _("tallies of referrals")
        constraints = _tally_constraints(
            "tally", ["counsellor", "country", "first_ranked", "chosen_group"]
        )
        indexes = _tally_indexes("tally")

    def __str__(self) -> str:
        return (
            f"{self.grain} {self.start} {self.counsellor_id} {self.chosen_group}: {self.referrals}"
        )


class ReasonTally(TallyBase):
    """Disengaged referrals of a month or a day counted by reason, as Tally counts
    referrals.

    A row with a code counts the referrals that gave that reason; the row of a theme
    without a code counts those that gave any reason of the theme, each once.
    """

    theme = models.CharField(_("theme"), max_length=60)
    code = models.CharField(_("reason"), max_length=60, blank=True)

    class Meta:
        verbose_name = _("tally of reasons for disengaging")
        verbose_name_plural = _("tallies of reasons for disengaging")
        constraints = _tally_constraints(
            "reasontally", ["counsellor", "country", "chosen_group", "theme", "code"]
        )
        indexes = _tally_indexes("reasontally")

    def __str__(self) -> str:
        return f"{self.grain} {self.start} {self.theme} {self.code}: {self.referrals}"

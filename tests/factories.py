from __future__ import annotations

import datetime as dt

import factory
from django.contrib.auth.models import Group as RoleGroup
from django.utils import timezone

from accounts.models import Organisation, User
from catalog.models import (
    Availability,
    Group,
    Meeting,
    MeetingFeed,
    MeetingSlot,
    Source,
    Trait,
    TraitValue,
)
from referrals import tallies
from referrals.models import Referral

PASSWORD = "a-long-test-password"


class OrganisationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organisation
        django_get_or_create = ["slug"]

    name = factory.Sequence(lambda n: f"Clinic {n}")
    slug = factory.Sequence(lambda n: f"clinic-{n}")
    country = "NO"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    organisation = factory.SubFactory(OrganisationFactory)
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def roles(obj: User, create: bool, extracted: list[str] | None, **kwargs: object) -> None:
        if create and extracted:
            obj.groups.add(*RoleGroup.objects.filter(name__in=extracted))
        if create:
            obj.save()


class SourceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Source
        django_get_or_create = ["key"]

    key = factory.Sequence(lambda n: f"source-{n}")
    title = factory.Sequence(lambda n: f"A source about peer support, part {n}")
    url = factory.Sequence(lambda n: f"https://example.org/source/{n}")
    kind = Source.Kind.PRIMARY


class GroupFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Group
        django_get_or_create = ["slug"]

    slug = factory.Sequence(lambda n: f"group-{n}")
    name = factory.Sequence(lambda n: f"Fellowship {n}")
    kind = Group.Kind.TWELVE_STEP
    languages = "en"


class TraitValueFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TraitValue

    group = factory.SubFactory(GroupFactory)
    trait = factory.LazyFunction(lambda: Trait.objects.get(key="sponsorship"))
    value = TraitValue.Value.YES
    source = factory.SubFactory(SourceFactory)
    locator = "section 2"
    verified_on = dt.date(2026, 11, 1)


class AvailabilityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Availability

    group = factory.SubFactory(GroupFactory)
    country = "NO"
    in_person_per_week = 10
    online = Availability.Online.YES
    languages = "nb"
    source = factory.SubFactory(SourceFactory)
    verified_on = dt.date(2026, 11, 1)


class MeetingFeedFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MeetingFeed
        django_get_or_create = ["key"]

    key = factory.Sequence(lambda n: f"feed-{n}")
    name = factory.Sequence(lambda n: f"Meeting feed {n}")
    format = MeetingFeed.Format.MEETING_GUIDE
    url = factory.Sequence(lambda n: f"https://example.org/feeds/{n}.json")
    group = factory.SubFactory(GroupFactory)
    timezone = "Europe/Oslo"
    source = factory.SubFactory(SourceFactory)


class MeetingFactory(factory.django.DjangoModelFactory):
    """A reference meeting in person in central Oslo; pass attendance, organisation etc."""

    class Meta:
        model = Meeting

    group = factory.SubFactory(GroupFactory)
    name = factory.Sequence(lambda n: f"Meeting {n}")
    location = "Kirkens Hus"
    address = "Storgata 1"
    municipality = "Oslo"
    postcode = "0155"
    country = "NO"
    latitude = 59.9139
    longitude = 10.7522
    languages = "nb"


class MeetingSlotFactory(factory.django.DjangoModelFactory):
    """Mondays at 18:00 in Oslo."""

    class Meta:
        model = MeetingSlot

    meeting = factory.SubFactory(MeetingFactory)
    weekday = MeetingSlot.Weekday.MONDAY
    starts = dt.time(18, 0)
    ends = dt.time(19, 30)
    timezone = "Europe/Oslo"


class ReferralFactory(factory.django.DjangoModelFactory):
    """A saved referral with a stand-in menu; dashboards read only its columns."""

    class Meta:
        model = Referral

    organisation = factory.LazyAttribute(lambda o: o.counsellor.organisation)
    counsellor = factory.SubFactory(UserFactory)
    reference = factory.Sequence(lambda n: f"P-{n:04d}")
    profile = factory.LazyAttribute(lambda o: {"reference": o.reference, "country": o.country})
    menu = factory.LazyAttribute(
        lambda o: {
            "reference": o.reference,
            "options": [
                {
                    "group": slug,
                    "name": slug.upper(),
                    "kind": "twelve_step" if slug in ("na", "aa") else "secular",
                    "rank": rank,
                    "score": 1.0 - rank / 10,
                    "note": None,
                    "parts": [],
                    "evidence": [],
                }
                for rank, slug in enumerate(
                    dict.fromkeys([o.first_ranked, "na", "aa", "smart-recovery"]), start=1
                )
            ],
            "complementary": [],
            "excluded": [],
        }
    )
    country = "NO"
    first_ranked = "na"
    offered_non_twelve_step = True

    @classmethod
    def _create(cls, model_class: type[Referral], *args: object, **kwargs: object) -> Referral:
        """Saved as referrals.services.save_referral saves one, with its tallies; a
        created_at (set on insert otherwise) dates it in the past."""
        created_at = kwargs.pop("created_at", None)
        referral: Referral = super()._create(model_class, *args, **kwargs)
        if created_at is not None:
            Referral.objects.filter(pk=referral.pk).update(created_at=created_at)
            referral.refresh_from_db()
        tallies.move(None, tallies.current(referral))
        return referral


def disengaged_at_one_month(
    referral: Referral, by: User, *, group: str, reasons: list[str]
) -> Referral:
    """The patient chose the group, went to a first meeting and had left it by one month,
    for these coded reasons."""
    from referrals.services import record_choice, record_follow_up

    record_choice(referral=referral, group=group)
    attended = {"first_meeting_on": timezone.localdate(referral.created_at)}
    record_follow_up(
        referral=referral,
        recorded_by=by,
        checkpoint="first_meeting",
        outcome="attended",
        **attended,
    )
    record_follow_up(
        referral=referral,
        recorded_by=by,
        checkpoint="one_month",
        outcome="disengaged",
        reasons=reasons,
        # Told on the day it is recorded, whether or not one month has passed.
        contacted_on=timezone.localdate(),
    )
    referral.refresh_from_db()
    return referral

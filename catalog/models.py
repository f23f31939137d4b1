from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django_countries import Countries
from django_countries.fields import CountryField
from simple_history.models import HistoricalRecords

from catalog.languages import language_name, split_languages, validate_language_list

if TYPE_CHECKING:
    from django_stubs_ext.db.models.manager import RelatedManager


def validate_not_future_year(year: int) -> None:
    if year > timezone.localdate().year:
        raise ValidationError(_("The year cannot be in the future."), code="future_year")


class WorldwideCountries(Countries):
    """Countries in which no country at all reads "Worldwide".

    Availability without a country holds for every country; with this list as its
    field's countries, ``place.country.name`` says so on every page and in the
    history without each template having to know.
    """

    def name(self, code: str) -> str:  # type: ignore[override]
        return gettext("Worldwide") if not code else super().name(code)


class SourceKind(models.TextChoices):
    STUDY = "study", _("Peer-reviewed study")
    PRIMARY = "primary", _("The organisation's own material")
    SECONDARY = "secondary", _("Secondary source")


class Source(models.Model):
    """A document that facts in the catalog are taken from."""

    Kind = SourceKind

    key = models.SlugField(
        _("key"),
        max_length=50,
        unique=True,
        help_text=_("Short identifier used in files, e.g. vederhus-2020."),
    )
    title = models.CharField(_("title"), max_length=300)
    publisher = models.CharField(
        _("publisher"),
        max_length=200,
        blank=True,
        help_text=_("Journal, organisation or website, and the date when it matters."),
    )
    url = models.URLField(
        _("URL or DOI link"),
        max_length=500,
        blank=True,
        help_text=_("For a DOI, give its link: https://doi.org/10.…"),
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)

    history = HistoricalRecords()

    class Meta:
        ordering = ["title"]
        verbose_name = _("source")
        verbose_name_plural = _("sources")
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=SourceKind.values), name="%(app_label)s_%(class)s_kind_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.title


class GroupQuerySet(models.QuerySet["Group"]):
    def active(self) -> GroupQuerySet:
        return self.filter(active=True)


class GroupKind(models.TextChoices):
    TWELVE_STEP = "twelve_step", _("Twelve-step fellowship")
    SECULAR = "secular", _("Secular mutual-help")
    USER_ORGANISATION = "user_organisation", _("User organisation")
    RECOVERY_NGO = "recovery_ngo", _("Recovery NGO")
    COMPLEMENTARY = "complementary", _("Complementary support group")


class Group(models.Model):
    """A fellowship or organisation a patient can be referred to."""

    Kind = GroupKind

    slug = models.SlugField(
        _("slug"),
        max_length=50,
        unique=True,
        help_text=_("Short identifier used in addresses and files, e.g. na or smart-recovery."),
    )
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    description = models.TextField(_("description"), blank=True)
    website = models.URLField(_("website"), max_length=500, blank=True)
    founded = models.PositiveSmallIntegerField(
        _("founding year"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1800), validate_not_future_year],
    )
    languages = models.CharField(
        _("languages"),
        max_length=300,
        blank=True,
        validators=[validate_language_list],
        help_text=_("Languages of its meetings and literature."),
    )
    active = models.BooleanField(
        _("active"), default=True, help_text=_("Inactive groups stay in the catalog for reference.")
    )

    history = HistoricalRecords()
    objects = GroupQuerySet.as_manager()

    if TYPE_CHECKING:
        trait_values: RelatedManager[TraitValue]
        availability: RelatedManager[Availability]

    class Meta:
        ordering = ["name"]
        verbose_name = _("group")
        verbose_name_plural = _("groups")
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=GroupKind.values), name="%(app_label)s_%(class)s_kind_valid"
            ),
            models.CheckConstraint(
                condition=Q(founded__isnull=True) | Q(founded__gte=1800, founded__lte=2100),
                name="%(app_label)s_%(class)s_founded_range",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("catalog:group-detail", args=[self.slug])

    @property
    def language_list(self) -> list[str]:
        return split_languages(self.languages)

    @property
    def language_names(self) -> list[str]:
        return [language_name(code) for code in self.language_list]

    @property
    def is_twelve_step(self) -> bool:
        return self.kind == self.Kind.TWELVE_STEP


class TraitDimension(models.TextChoices):
    PHILOSOPHY = "philosophy", _("Philosophy")
    GOAL = "goal", _("Goal")
    MEDICATION = "medication", _("Medication")
    FORMAT = "format", _("Format")
    SUPPORT = "support", _("Support structure")
    POPULATION = "population", _("Population")
    ACCESS = "access", _("Access")


class Trait(models.Model):
    """One entry of the controlled vocabulary that decides fit."""

    Dimension = TraitDimension

    key = models.SlugField(_("key"), max_length=60, unique=True)
    dimension = models.CharField(_("dimension"), max_length=20, choices=Dimension.choices)
    label = models.CharField(_("label"), max_length=120)
    help_text = models.CharField(_("help text"), max_length=300, blank=True)
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        ordering = ["position", "key"]
        verbose_name = _("trait")
        verbose_name_plural = _("traits")
        constraints = [
            models.CheckConstraint(
                condition=Q(dimension__in=TraitDimension.values),
                name="%(app_label)s_%(class)s_dimension_valid",
            ),
        ]

    def __str__(self) -> str:
        return self.label


class TraitValueChoice(models.TextChoices):
    YES = "yes", _("Yes")
    NO = "no", _("No")
    OPTIONAL = "optional", _("Optional")
    VARIES = "varies", _("Varies between local groups")
    UNKNOWN = "unknown", _("Unknown")


class TraitValue(models.Model):
    """A group's value for one trait, with the source it is taken from.

    A value without a country holds everywhere; a value for a country holds there and,
    for patients in that country, overrides the value that holds everywhere (a user
    organisation's welcome of people in opioid maintenance is one country's fact).
    """

    Value = TraitValueChoice

    group = models.ForeignKey(
        Group, on_delete=models.CASCADE, related_name="trait_values", verbose_name=_("group")
    )
    trait = models.ForeignKey(
        Trait, on_delete=models.PROTECT, related_name="values", verbose_name=_("trait")
    )
    # The stubs want a str as blank_label; a lazy one is translated when choices are shown.
    country = CountryField(  # type: ignore[call-overload]
        _("country"),
        blank=True,
        default="",
        blank_label=_("Every country"),
        help_text=_("Leave empty for a value that holds everywhere."),
    )
    value = models.CharField(_("value"), max_length=10, choices=Value.choices)
    source = models.ForeignKey(
        Source,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="trait_values",
        verbose_name=_("source"),
    )
    locator = models.CharField(
        _("locator"),
        max_length=300,
        blank=True,
        help_text=_("Where in the source: a section, table, page or quoted phrase."),
    )
    verified_on = models.DateField(_("last verified"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=300, blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["trait__position", "trait__key", "country"]
        verbose_name = _("trait value")
        verbose_name_plural = _("trait values")
        constraints = [
            models.UniqueConstraint(
                fields=["group", "trait", "country"],
                name="%(app_label)s_%(class)s_one_per_trait_and_country",
            ),
            models.CheckConstraint(
                condition=Q(value__in=TraitValueChoice.values),
                name="%(app_label)s_%(class)s_value_valid",
            ),
            # A known value is a claim, and every claim names its source and when it was checked.
            models.CheckConstraint(
                condition=Q(value="unknown") | Q(source__isnull=False, verified_on__isnull=False),
                name="%(app_label)s_%(class)s_known_value_sourced",
            ),
        ]
        indexes = [
            # Catalog filters: groups whose value for a trait is X.
            models.Index(fields=["trait", "value"], name="catalog_traitvalue_trait_value"),
        ]

    def __str__(self) -> str:
        where = f" ({self.country.name})" if self.country else ""
        return f"{self.group}: {self.trait}{where} = {self.get_value_display()}"

    def clean(self) -> None:
        if self.value != self.Value.UNKNOWN:
            errors = {}
            if self.source_id is None:
                errors["source"] = _("A known value needs a source.")
            if self.verified_on is None:
                errors["verified_on"] = _("A known value needs the date it was last verified.")
            if errors:
                raise ValidationError(errors)
        if self.verified_on and self.verified_on > timezone.localdate():
            raise ValidationError({"verified_on": _("The date cannot be in the future.")})


class OnlineChoice(models.TextChoices):
    YES = "yes", _("Yes")
    NO = "no", _("No")
    UNKNOWN = "unknown", _("Unknown")


class Availability(models.Model):
    """Where and how a group meets, per country (and optionally a region of it).

    A row without a country is worldwide: what holds wherever a patient is, such as
    online meetings open to anyone or a fellowship's count of meetings world-wide.
    """

    Online = OnlineChoice

    group = models.ForeignKey(
        Group, on_delete=models.CASCADE, related_name="availability", verbose_name=_("group")
    )
    # The stubs want a str as blank_label; a lazy one is translated when choices are shown.
    country = CountryField(  # type: ignore[call-overload]
        _("country"),
        blank=True,
        countries=WorldwideCountries,
        blank_label=_("Worldwide"),
        help_text=_("Leave empty for worldwide."),
    )
    region = models.CharField(
        _("region"),
        max_length=100,
        blank=True,
        help_text=_("Leave empty for the whole country; always empty for worldwide."),
    )
    in_person_per_week = models.PositiveIntegerField(
        _("in-person meetings per week"),
        null=True,
        blank=True,
        help_text=_("Leave empty when the number is not known."),
    )
    online = models.CharField(
        _("online meetings"), max_length=10, choices=Online.choices, default=Online.UNKNOWN
    )
    languages = models.CharField(
        _("meeting languages"), max_length=300, blank=True, validators=[validate_language_list]
    )
    source = models.ForeignKey(
        Source, on_delete=models.PROTECT, related_name="availability", verbose_name=_("source")
    )
    locator = models.CharField(_("locator"), max_length=300, blank=True)
    verified_on = models.DateField(_("last verified"))
    # The handout links it for a patient in this country, instead of the group's
    # international site.
    website = models.URLField(
        _("website here"),
        blank=True,
        help_text=_("The group's own website for this country or region, if it has one."),
    )

    history = HistoricalRecords()

    class Meta:
        ordering = ["country", "region"]
        verbose_name = _("availability")
        verbose_name_plural = _("availability")
        constraints = [
            models.UniqueConstraint(
                fields=["group", "country", "region"], name="%(app_label)s_%(class)s_one_per_place"
            ),
            models.CheckConstraint(
                condition=Q(online__in=OnlineChoice.values),
                name="%(app_label)s_%(class)s_online_valid",
            ),
            # A region is a part of a country; worldwide has none.
            models.CheckConstraint(
                condition=~Q(country="") | Q(region=""),
                name="%(app_label)s_%(class)s_region_needs_country",
            ),
        ]
        indexes = [
            # Catalog filter by country.
            models.Index(fields=["country", "group"], name="catalog_availability_country"),
        ]

    def __str__(self) -> str:
        place = f"{self.country.name}, {self.region}" if self.region else str(self.country.name)
        return f"{self.group} — {place}"

    def clean(self) -> None:
        errors = {}
        if self.region and not self.country:
            errors["region"] = _("A region needs its country; worldwide has no region.")
        if self.verified_on and self.verified_on > timezone.localdate():
            errors["verified_on"] = _("The date cannot be in the future.")
        if errors:
            raise ValidationError(errors)

    @property
    def language_names(self) -> list[str]:
        return [language_name(code) for code in split_languages(self.languages)]


# --- Meetings -----------------------------------------------------------------


def validate_timezone(value: str) -> None:
    """An IANA time zone name this machine's tz database knows, e.g. Europe/Oslo."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        if not value or value != value.strip():
            raise ValueError
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise ValidationError(
            _("“%(value)s” is not a time zone. Use an IANA name such as Europe/Oslo."),
            code="invalid_timezone",
            params={"value": value},
        ) from error


class FeedFormat(models.TextChoices):
    MEETING_GUIDE = "meeting-guide", _("Meeting Guide JSON")
    BMLT = "bmlt", _("BMLT semantic API (JSON)")
    CSV = "csv", _("CSV (Recovery Menu template)")


class MeetingFeed(models.Model):
    """A list of meetings a fellowship publishes, imported and refreshed on a schedule.

    Each feed has its own source in the catalog, so that availability derived from its
    meetings cites it like any other fact.
    """

    Format = FeedFormat

    key = models.SlugField(
        _("key"), max_length=60, unique=True, help_text=_("Short identifier, e.g. aa-quinte.")
    )
    name = models.CharField(_("name"), max_length=200)
    format = models.CharField(_("format"), max_length=20, choices=Format.choices)
    url = models.URLField(
        _("address"),
        max_length=500,
        blank=True,
        help_text=_(
            "Where the feed is fetched from (http or https). Empty for files uploaded by hand."
        ),
    )
    group = models.ForeignKey(
        Group,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="feeds",
        verbose_name=_("group"),
        help_text=_(
            "The fellowship whose meetings the feed lists. "
            "Empty for CSV files that name it on each row."
        ),
    )
    timezone = models.CharField(
        _("time zone"),
        max_length=60,
        blank=True,
        validators=[validate_timezone],
        help_text=_("For meetings the feed lists without one, e.g. America/Toronto."),
    )
    source = models.OneToOneField(
        Source, on_delete=models.PROTECT, related_name="feed", verbose_name=_("source")
    )
    active = models.BooleanField(
        _("refreshed on schedule"), default=True, help_text=_("Only active feeds are refreshed.")
    )
    refreshed_at = models.DateTimeField(_("last refreshed"), null=True, blank=True)
    last_report = models.TextField(_("last report"), blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]
        verbose_name = _("meeting feed")
        verbose_name_plural = _("meeting feeds")
        constraints = [
            models.CheckConstraint(
                condition=Q(format__in=FeedFormat.values),
                name="%(app_label)s_%(class)s_format_valid",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Attendance(models.TextChoices):
    IN_PERSON = "in_person", _("In person")
    ONLINE = "online", _("Online")
    HYBRID = "hybrid", _("Hybrid (in person and online)")


class Openness(models.TextChoices):
    OPEN = "open", _("Open: anyone may attend")
    CLOSED = "closed", _("Closed: for those who want to stop")
    UNKNOWN = "", _("Not stated")


class MeetingQuerySet(models.QuerySet["Meeting"]):
    def current(self) -> MeetingQuerySet:
        return self.filter(retired_at__isnull=True, group__active=True)

    def visible_to(self, organisation_id: int | None) -> MeetingQuerySet:
        """Reference meetings, and an organisation's own (its examples among them)."""
        if organisation_id is None:
            return self.filter(organisation__isnull=True)
        return self.filter(Q(organisation__isnull=True) | Q(organisation_id=organisation_id))


class Meeting(models.Model):
    """A concrete weekly meeting of a group: where or how to join, and when (its slots)."""

    Attendance = Attendance
    Openness = Openness

    group = models.ForeignKey(
        Group, on_delete=models.CASCADE, related_name="meetings", verbose_name=_("group")
    )
    name = models.CharField(_("name"), max_length=255)
    attendance = models.CharField(
        _("attendance"), max_length=10, choices=Attendance.choices, default=Attendance.IN_PERSON
    )
    # Place: a venue for in-person and hybrid meetings.
    location = models.CharField(
        _("venue"), max_length=255, blank=True, help_text=_("e.g. the church or clinic.")
    )
    address = models.CharField(_("street address"), max_length=255, blank=True)
    municipality = models.CharField(_("town or municipality"), max_length=120, blank=True)
    postcode = models.CharField(_("postcode"), max_length=20, blank=True)
    country = CountryField(_("country"), blank=True)
    latitude = models.FloatField(_("latitude"), null=True, blank=True)
    longitude = models.FloatField(_("longitude"), null=True, blank=True)
    location_notes = models.CharField(_("how to find it"), max_length=500, blank=True)
    # Joining at a distance: online meetings and hybrid ones.
    online_url = models.URLField(_("online link"), max_length=500, blank=True)
    online_notes = models.CharField(_("online instructions"), max_length=500, blank=True)
    phone = models.CharField(_("telephone to join"), max_length=40, blank=True)
    phone_notes = models.CharField(_("telephone instructions"), max_length=500, blank=True)
    languages = models.CharField(
        _("languages"), max_length=300, blank=True, validators=[validate_language_list]
    )
    # The fellowship's own format codes, kept as its feed spells them; the namespace says
    # whose vocabulary they are ("SP" is Speaker for AA and Spanish elsewhere).
    codes = models.JSONField(_("format codes"), default=list, blank=True)
    code_namespace = models.CharField(_("code vocabulary"), max_length=60, blank=True)
    # What the codes say that the catalog also knows, mapped once on import or edit.
    openness = models.CharField(
        _("open or closed"), max_length=10, choices=Openness.choices, blank=True, default=""
    )
    women_only = models.BooleanField(_("women only"), default=False)
    secular = models.BooleanField(_("secular"), default=False)
    wheelchair_access = models.BooleanField(
        _("wheelchair access"), null=True, blank=True, help_text=_("Empty when not stated.")
    )
    notes = models.TextField(_("notes"), blank=True)
    # Provenance.
    feed = models.ForeignKey(
        MeetingFeed,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="meetings",
        verbose_name=_("feed"),
    )
    external_id = models.CharField(_("identifier in the feed"), max_length=100, blank=True)
    source_updated = models.DateTimeField(_("last updated by the feed"), null=True, blank=True)
    updated_at = models.DateTimeField(_("last changed here"), auto_now=True)
    retired_at = models.DateTimeField(
        _("retired"),
        null=True,
        blank=True,
        help_text=_("Retired meetings are kept for the record but no longer offered."),
    )
    # Meetings an organisation keeps for itself; the demo organisation's are examples.
    organisation = models.ForeignKey(
        "accounts.Organisation",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="meetings",
        verbose_name=_("organisation"),
    )
    is_example = models.BooleanField(
        _("example"), default=False, help_text=_("An invented meeting for demonstration.")
    )

    history = HistoricalRecords()
    objects = MeetingQuerySet.as_manager()

    if TYPE_CHECKING:
        slots: RelatedManager[MeetingSlot]

    class Meta:
        ordering = ["name"]
        verbose_name = _("meeting")
        verbose_name_plural = _("meetings")
        constraints = [
            models.UniqueConstraint(
                fields=["feed", "external_id"],
                condition=Q(feed__isnull=False),
                name="%(app_label)s_%(class)s_one_per_feed_id",
            ),
            models.CheckConstraint(
                condition=Q(attendance__in=Attendance.values),
                name="%(app_label)s_%(class)s_attendance_valid",
            ),
            models.CheckConstraint(
                condition=Q(openness__in=Openness.values),
                name="%(app_label)s_%(class)s_openness_valid",
            ),
            models.CheckConstraint(
                condition=(Q(latitude__isnull=True) & Q(longitude__isnull=True))
                | Q(latitude__gte=-90, latitude__lte=90, longitude__gte=-180, longitude__lte=180),
                name="%(app_label)s_%(class)s_coordinates_valid",
            ),
            # An example is an organisation's own, never reference data.
            models.CheckConstraint(
                condition=Q(is_example=False) | Q(organisation__isnull=False),
                name="%(app_label)s_%(class)s_example_has_organisation",
            ),
        ]
        indexes = [
            # Meetings near a point: a latitude band, then the exact distance in Python.
            models.Index(
                fields=["latitude", "longitude"],
                name="catalog_meeting_position",
                condition=Q(retired_at__isnull=True, latitude__isnull=False),
            ),
            models.Index(fields=["group", "attendance"], name="catalog_meeting_group"),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("catalog:meeting-detail", args=[self.pk])

    @property
    def language_list(self) -> list[str]:
        return split_languages(self.languages)

    @property
    def language_names(self) -> list[str]:
        return [language_name(code) for code in self.language_list]

    @property
    def in_person(self) -> bool:
        return self.attendance != Attendance.ONLINE

    @property
    def remote(self) -> bool:
        return self.attendance != Attendance.IN_PERSON

    @property
    def full_address(self) -> str:
        locality = " ".join(part for part in (self.postcode, self.municipality) if part)
        return ", ".join(part for part in (self.address, locality) if part)

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if (self.latitude is None) != (self.longitude is None):
            errors["latitude"] = gettext("Give both latitude and longitude, or neither.")
        if self.in_person and not (self.address or self.municipality or self.latitude is not None):
            errors["address"] = gettext(
                "An in-person or hybrid meeting needs an address, a town or coordinates."
            )
        if self.remote and not (self.online_url or self.phone):
            errors["online_url"] = gettext(
                "An online or hybrid meeting needs a link or a telephone number to join."
            )
        if self.is_example and self.organisation_id is None:
            errors["is_example"] = gettext("Only an organisation's own meetings can be examples.")
        if errors:
            raise ValidationError(errors)


class Weekday(models.IntegerChoices):
    MONDAY = 0, _("Monday")
    TUESDAY = 1, _("Tuesday")
    WEDNESDAY = 2, _("Wednesday")
    THURSDAY = 3, _("Thursday")
    FRIDAY = 4, _("Friday")
    SATURDAY = 5, _("Saturday")
    SUNDAY = 6, _("Sunday")


class MeetingSlot(models.Model):
    """One weekly occurrence: a day, a local start (and end) time, and the time zone."""

    Weekday = Weekday

    meeting = models.ForeignKey(
        Meeting, on_delete=models.CASCADE, related_name="slots", verbose_name=_("meeting")
    )
    weekday = models.PositiveSmallIntegerField(_("day"), choices=Weekday.choices)
    starts = models.TimeField(_("starts"))
    ends = models.TimeField(_("ends"), null=True, blank=True)
    timezone = models.CharField(_("time zone"), max_length=60, validators=[validate_timezone])

    history = HistoricalRecords()

    class Meta:
        ordering = ["weekday", "starts"]
        verbose_name = _("weekly time")
        verbose_name_plural = _("weekly times")
        constraints = [
            models.UniqueConstraint(
                fields=["meeting", "weekday", "starts"], name="%(app_label)s_%(class)s_unique"
            ),
            models.CheckConstraint(
                condition=Q(weekday__gte=0, weekday__lte=6),
                name="%(app_label)s_%(class)s_weekday_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.starts:%H:%M}"


class Place(models.Model):
    """A town, municipality or postcode of the offline gazetteer (GeoNames data).

    ``reference`` names the record in its source, e.g. ``geonames:3159016``.
    """

    class Kind(models.TextChoices):
        TOWN = "town", _("Town or municipality")
        POSTCODE = "postcode", _("Postcode")

    reference = models.CharField(_("reference"), max_length=60, unique=True)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.TOWN)
    name = models.CharField(_("name"), max_length=200)
    country = models.CharField(_("country"), max_length=2)
    # The first-level division's name where the data give one ("Vestland"), else its code.
    region = models.CharField(_("region"), max_length=60, blank=True)
    latitude = models.FloatField(_("latitude"))
    longitude = models.FloatField(_("longitude"))
    population = models.PositiveIntegerField(_("population"), default=0)
    timezone = models.CharField(_("time zone"), max_length=60, blank=True)
    # Which data and loader wrote the row, so `load_places` can tell it has nothing to do.
    edition = models.CharField(_("edition"), max_length=60, blank=True)

    class Meta:
        ordering = ["-population", "name"]
        verbose_name = _("place")
        verbose_name_plural = _("places")
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=["town", "postcode"]),
                name="%(app_label)s_%(class)s_kind_valid",
            ),
        ]
        indexes = [
            # nearest_place(): a latitude band, then the exact distance in Python.
            models.Index(fields=["latitude", "longitude"], name="catalog_place_position"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.country})"


class PlaceName(models.Model):
    """A name a place is looked up by, normalised: case, accents and spacing folded."""

    # resolve() looks places up by key: the unique constraint's index (key, place) serves it.
    key = models.CharField(max_length=200)
    place = models.ForeignKey(Place, on_delete=models.CASCADE, related_name="names")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["key", "place"], name="%(app_label)s_placename_unique")
        ]

    def __str__(self) -> str:
        return self.key

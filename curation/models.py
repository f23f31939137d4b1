from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

# How long an uploaded file waits for its preview to be applied.
PENDING_LIFETIME = dt.timedelta(hours=1)


class PendingImportQuerySet(models.QuerySet["PendingImport"]):
    def expired(self) -> PendingImportQuerySet:
        return self.filter(created_at__lt=timezone.now() - PENDING_LIFETIME)


class PendingImportKind(models.TextChoices):
    CATALOG = "catalog", _("Catalog")
    STUDIES = "studies", _("Studies")
    MEETINGS = "meetings", _("Meetings")


class PendingImport(models.Model):
    """An uploaded file between its preview and its application.

    The bytes wait here rather than in the session, which is no place for megabytes;
    only the curator who uploaded them may apply them, once, within
    ``PENDING_LIFETIME``. The id is random, so an address names one upload only.
    """

    Kind = PendingImportKind

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    filename = models.CharField(_("file name"), max_length=255)
    # What the file is imported into, where its kind has more than one (a feed's key).
    target = models.CharField(_("imported into"), max_length=100, blank=True)
    data = models.BinaryField(_("content"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("uploaded by"),
    )
    created_at = models.DateTimeField(_("uploaded at"), default=timezone.now)
    applied_at = models.DateTimeField(_("applied at"), null=True, blank=True)

    objects = PendingImportQuerySet.as_manager()

    class Meta:
        verbose_name = _("pending import")
        verbose_name_plural = _("pending imports")
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=PendingImportKind.values),
                name="%(app_label)s_%(class)s_kind_valid",
            ),
        ]
        indexes = [
            # PendingImport.objects.expired().delete(), at every upload.
            models.Index(fields=["created_at"], name="curation_pendingimport_created"),
        ]

    def __str__(self) -> str:
        return f"{self.filename} ({self.get_kind_display()})"

    @classmethod
    def keep(
        cls, *, kind: str, filename: str, data: bytes, user: Any, target: str = ""
    ) -> PendingImport:
        """Store an upload for its preview, clearing uploads whose hour has passed."""
        cls.objects.expired().delete()
        return cls.objects.create(
            kind=kind,
            filename=filename[:255],
            target=target,
            data=data,
            sha256=hashlib.sha256(data).hexdigest(),
            uploaded_by=user,
        )

    @property
    def expires_at(self) -> dt.datetime:
        return self.created_at + PENDING_LIFETIME

    @property
    def is_expired(self) -> bool:
        return timezone.now() >= self.expires_at

    @property
    def content(self) -> bytes:
        """The upload's bytes, as they were when uploaded (checked against the digest)."""
        data = bytes(self.data)
        if hashlib.sha256(data).hexdigest() != self.sha256:
            raise ValueError(f"pending import {self.pk} does not match its digest")
        return data

    def claim(self) -> bool:
        """Mark the upload applied, unless it was already; call inside the transaction
        that applies it, so that a failed application leaves it unclaimed."""
        now = timezone.now()
        claimed = PendingImport.objects.filter(pk=self.pk, applied_at__isnull=True).update(
            applied_at=now, data=b""
        )
        if claimed:
            self.applied_at = now
        return bool(claimed)

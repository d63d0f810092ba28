"""A service of an authority and the versions of its definition.

A case (later) pins the version it started on, so a published definition never changes: a new
definition is a new version. Versions go draft → published → retired; a service has at most one
published version at a time.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from salter.authorities.models import Authority, LocalizedName


class Service(LocalizedName):
    class Kind(models.TextChoices):
        ADMINISTRATIVE = "administrative", _("Administrative procedure (ZUP)")
        INTERNAL = "internal", _("Internal procedure")
        PETITION = "petition", _("Petition")

    authority = models.ForeignKey(Authority, on_delete=models.PROTECT, related_name="services")
    code = models.SlugField(_("code"), max_length=50)
    description = models.TextField(_("description"), blank=True)
    description_en = models.TextField(_("description in English"), blank=True)
    legal_basis = models.CharField(_("legal basis"), max_length=500, blank=True)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    min_level_of_assurance = models.PositiveSmallIntegerField(
        _("minimum level of assurance"),
        default=2,
        validators=[MinValueValidator(1), MaxValueValidator(3)],
        help_text=_("1 = password, 2 = two factors, 3 = high (qualified certificate or eID)."),
    )
    classification_code = models.CharField(_("classification code"), max_length=30, blank=True)
    # The unit that handles the service's cases; empty = any unit of the authority.
    unit = models.ForeignKey(
        "authorities.OrgUnit",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="services",
        verbose_name=_("handling unit"),
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["authority", "name"]
        verbose_name = _("service")
        verbose_name_plural = _("services")
        constraints = [
            models.UniqueConstraint(
                fields=["authority", "code"], name="service_code_per_authority"
            ),
            models.CheckConstraint(
                condition=models.Q(min_level_of_assurance__gte=1, min_level_of_assurance__lte=3),
                name="service_loa_between_1_and_3",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} ({self.authority.code})"

    @property
    def display_description(self) -> str:
        if translation.get_language() == "en" and self.description_en:
            return self.description_en
        return self.description


class ServiceVersion(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        PUBLISHED = "published", _("Published")
        RETIRED = "retired", _("Retired")

    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField(_("version"))
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.DRAFT
    )
    definition = models.JSONField(_("definition"), default=dict)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    retired_at = models.DateTimeField(_("retired at"), null=True, blank=True)

    class Meta:
        ordering = ["service", "number"]
        verbose_name = _("service version")
        verbose_name_plural = _("service versions")
        constraints = [
            models.UniqueConstraint(
                fields=["service", "number"], name="version_number_per_service"
            ),
            # Also the index of the public catalogue, which reads published versions only.
            models.UniqueConstraint(
                fields=["service"],
                condition=models.Q(status="published"),
                name="one_published_version_per_service",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.service_id} v{self.number} ({self.status})"

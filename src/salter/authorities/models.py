"""Authorities (organs), their organisational units and their registry books."""

from __future__ import annotations

from django.db import models
from django.utils import translation
from django.utils.translation import gettext_lazy as _


class LocalizedName(models.Model):
    """Names are written in Serbian Cyrillic (sr-Latn is derived) and in English."""

    name = models.CharField(_("name"), max_length=300)
    name_en = models.CharField(_("name in English"), max_length=300, blank=True)

    class Meta:
        abstract = True

    @property
    def display_name(self) -> str:
        if translation.get_language() == "en" and self.name_en:
            return self.name_en
        return self.name


class Authority(LocalizedName):
    class Kind(models.TextChoices):
        MINISTRY = "ministry", _("Ministry")
        AGENCY = "agency", _("Agency")
        LOCAL_GOVERNMENT = "local_government", _("Local government")
        OTHER = "other", _("Other public body")

    code = models.SlugField(_("code"), max_length=50, unique=True)
    kind = models.CharField(_("kind"), max_length=30, choices=Kind.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent authority"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    pib = models.CharField(_("PIB"), max_length=9, blank=True)
    mb = models.CharField(_("MB"), max_length=8, blank=True)
    address = models.CharField(_("address"), max_length=300, blank=True)
    website = models.URLField(_("website"), blank=True)
    # Fees are paid to this account (18 digits) with a model-97 reference whose first part is
    # this numeric code (salter.payments.references.case_reference).
    account = models.CharField(_("account for fees"), max_length=18, blank=True)
    payment_code = models.PositiveIntegerField(
        _("numeric code in payment references"), null=True, blank=True, unique=True
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["kind", "name"]
        verbose_name = _("authority")
        verbose_name_plural = _("authorities")

    def __str__(self) -> str:
        return self.name


class OrgUnit(LocalizedName):
    """An organisational unit (sector, department, section) inside one authority."""

    authority = models.ForeignKey(Authority, on_delete=models.PROTECT, related_name="units")
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    code = models.SlugField(_("code"), max_length=50)

    class Meta:
        ordering = ["authority", "name"]
        constraints = [
            models.UniqueConstraint(fields=["authority", "code"], name="unit_code_per_authority")
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.authority.code})"


class RegistryBook(LocalizedName):
    """Settings of an authority's registry book (delovodnik). Numbers are allocated per book
    and per year (by the cases and documents apps); ``number_template`` shapes them."""

    authority = models.ForeignKey(Authority, on_delete=models.PROTECT, related_name="books")
    code = models.CharField(_("code"), max_length=30)
    number_template = models.CharField(
        _("number template"),
        max_length=100,
        default="{book}-{number}/{year}",
        help_text=_("Placeholders: {book}, {number}, {year}, {unit}."),
    )
    is_default = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["authority", "code"], name="book_code_per_authority"),
            models.UniqueConstraint(
                fields=["authority"],
                condition=models.Q(is_default=True),
                name="one_default_book_per_authority",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} ({self.authority.code})"

    def format_number(self, number: int, year: int, unit: str = "") -> str:
        return self.number_template.format(book=self.code, number=number, year=year, unit=unit)


class RegistryCounter(models.Model):
    """The last registry number (delovodni broj) given out in one book and one year.

    One row per book and year, locked while a number is allocated, so numbers follow each
    other without gaps or duplicates (see ``salter.authorities.numbering``). A year with
    ``closed_at`` set gives out no more numbers.
    """

    book = models.ForeignKey(RegistryBook, on_delete=models.PROTECT, related_name="counters")
    year = models.PositiveSmallIntegerField(_("year"))
    last_number = models.PositiveIntegerField(_("last number"), default=0)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["book", "year"], name="one_counter_per_book_and_year")
        ]
        verbose_name = _("registry counter")
        verbose_name_plural = _("registry counters")

    def __str__(self) -> str:
        return f"{self.book_id}/{self.year}: {self.last_number}"


class CategoryList(models.Model):
    """An authority's list of categories of documentary material (lista kategorija): which
    classification code keeps a record how long. Versioned: a new list gets the next version
    and its approval number (the archive's consent), older records keep the version they were
    classified under."""

    authority = models.ForeignKey(
        Authority, on_delete=models.PROTECT, related_name="category_lists"
    )
    version = models.PositiveSmallIntegerField(_("version"))
    approval_number = models.CharField(_("approval number"), max_length=100, blank=True)
    valid_from = models.DateField(_("valid from"))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["authority", "version"], name="one_category_list_version"
            )
        ]

    def __str__(self) -> str:
        return f"{self.authority_id} v{self.version}"


class Category(models.Model):
    """One classification code of a category list and its retention: a number of years, or
    kept permanently (trajno)."""

    category_list = models.ForeignKey(
        CategoryList, on_delete=models.PROTECT, related_name="categories"
    )
    code = models.CharField(_("classification code"), max_length=30)
    title = models.CharField(_("title"), max_length=300)
    retention_years = models.PositiveSmallIntegerField(
        _("retention (years)"), null=True, blank=True
    )
    permanent = models.BooleanField(_("kept permanently"), default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["category_list", "code"], name="category_code_per_list"
            ),
            models.CheckConstraint(
                condition=models.Q(permanent=True, retention_years__isnull=True)
                | models.Q(permanent=False, retention_years__isnull=False),
                name="category_retention_or_permanent",
            ),
        ]
        verbose_name_plural = _("categories")

    def __str__(self) -> str:
        return f"{self.code} {self.title}"

    @property
    def retention_text(self) -> str:
        if self.permanent:
            return str(_("permanently"))
        return str(_("%(n)s years") % {"n": self.retention_years})

"""Users, persons, companies, memberships, mandates, API tokens and sessions."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any, ClassVar

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import IntegrityError, models, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from salter.authorities.models import Authority, OrgUnit
from salter.core import confidentiality, pii
from salter.core.confidentiality import Level
from salter.identity import validators


class PersonQuerySet(models.QuerySet["Person"]):
    def by_jmbg(self, jmbg: str) -> PersonQuerySet:
        """The person with this JMBG, found by its keyed hash (the number itself is stored
        encrypted and cannot be compared in a query)."""
        return self.filter(jmbg_hash__in=pii.blinds(jmbg))

    def get_or_create_jmbg(
        self, jmbg: str, defaults: dict[str, Any] | None = None
    ) -> tuple[Person, bool]:
        """The person with this JMBG, made if there is none; two callers racing to make the
        same person meet at the unique keyed hash and both get the one row."""
        found = self.by_jmbg(jmbg).first()
        if found is not None:
            return found, False
        try:
            with transaction.atomic():
                return self.create(jmbg=jmbg, **(defaults or {})), True
        except IntegrityError:
            return self.by_jmbg(jmbg).get(), False


class Person(models.Model):
    """A natural person, identified by JMBG (a register's data; the user account is separate).

    The JMBG is stored encrypted (:mod:`salter.core.pii`), with its keyed hash for lookups. A
    person without a JMBG is a user who registered without one: the access log still needs
    someone to attribute reads of their data to."""

    jmbg = pii.EncryptedTextField(
        _("JMBG"), null=True, blank=True, validators=[validators.validate_jmbg]
    )
    jmbg_hash = models.CharField(max_length=80, unique=True, null=True, editable=False)
    given_name = models.CharField(_("given name"), max_length=100, blank=True)
    family_name = models.CharField(_("family name"), max_length=100, blank=True)
    birth_date = models.DateField(_("date of birth"), null=True, blank=True)

    objects: ClassVar[PersonQuerySet] = PersonQuerySet.as_manager()  # type: ignore[assignment]

    class Meta:
        verbose_name = _("person")

    def __str__(self) -> str:
        return f"{self.given_name} {self.family_name}".strip() or f"#{self.pk}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.jmbg_hash = pii.blind(self.jmbg) if self.jmbg else None
        super().save(*args, **kwargs)

    @property
    def ref(self) -> str:
        return f"identity.person:{self.pk}"


class Company(models.Model):
    """A legal entity, identified by PIB (tax number) and MB (registration number)."""

    pib = models.CharField(
        _("PIB"), max_length=9, unique=True, validators=[validators.validate_pib]
    )
    mb = models.CharField(_("MB"), max_length=8, unique=True, validators=[validators.validate_mb])
    name = models.CharField(_("name"), max_length=300)
    address = models.CharField(_("address"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("company")
        verbose_name_plural = _("companies")

    def __str__(self) -> str:
        return self.name

    @property
    def ref(self) -> str:
        return f"identity.company:{self.pk}"


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **extra: Any) -> User:
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra.update(is_platform_admin=True, is_staff=True, is_superuser=True)
        return self.create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    class Kind(models.TextChoices):
        CITIZEN = "citizen", _("Citizen or business")
        OFFICIAL = "official", _("Official")

    email = models.EmailField(_("E-mail address"), unique=True)
    full_name = models.CharField(_("full name"), max_length=200)
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.CITIZEN)
    person = models.OneToOneField(
        Person, null=True, blank=True, on_delete=models.PROTECT, related_name="user"
    )
    language = models.CharField(max_length=10, default="sr")
    # For SMS notifications, if the user gives one (E.164, e.g. +381641234567).
    phone = models.CharField(_("mobile phone"), max_length=20, blank=True)
    email_verified_at = models.DateTimeField(null=True, blank=True)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False)
    is_platform_admin = models.BooleanField(default=False)
    date_joined = models.DateTimeField(default=timezone.now)
    oidc_subject = models.CharField(max_length=255, null=True, blank=True, unique=True)

    objects: ClassVar[UserManager] = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["full_name"]

    class Meta:
        verbose_name = _("user")

    def __str__(self) -> str:
        return self.email

    @property
    def is_official(self) -> bool:
        return self.kind == self.Kind.OFFICIAL or self.is_platform_admin

    @property
    def needs_second_factor(self) -> bool:
        """Officials and platform administrators cannot work without a second factor."""
        return self.is_official

    # django-otp's ``user.otp_device`` (the device that verified this session, or None), loaded
    # on first use: see :class:`salter.identity.middleware.OTPMiddleware`.
    @property
    def otp_device(self) -> Any:
        loader = self.__dict__.pop("_otp_device_loader", None)
        if loader is not None:
            self.__dict__["_otp_device"] = loader()
        return self.__dict__.get("_otp_device")

    @otp_device.setter
    def otp_device(self, device: Any) -> None:
        self.__dict__.pop("_otp_device_loader", None)
        self.__dict__["_otp_device"] = device

    def defer_otp_device(self, loader: Callable[[], Any]) -> None:
        self.__dict__["_otp_device_loader"] = loader


class Role(models.TextChoices):
    CLERK = "clerk", _("Clerk")
    APPROVER = "approver", _("Approver")
    HEAD_OF_UNIT = "head_of_unit", _("Head of unit")
    REGISTRY_CLERK = "registry_clerk", _("Registry clerk")
    ARCHIVIST = "archivist", _("Archivist")
    AUTHORITY_ADMIN = "authority_admin", _("Authority administrator")


class MembershipQuerySet(models.QuerySet["Membership"]):
    def in_force(self, day: date | None = None) -> MembershipQuerySet:
        """Memberships valid on ``day`` (today in Belgrade by default)."""
        day = day or timezone.localdate()
        return self.filter(valid_from__lte=day).filter(
            models.Q(valid_until__isnull=True) | models.Q(valid_until__gte=day)
        )


class Membership(models.Model):
    """An official's role in an organisational unit."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    unit = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="memberships")
    role = models.CharField(max_length=30, choices=Role.choices)
    # The highest confidentiality level of case and document this membership reads.
    clearance = models.CharField(
        _("clearance"),
        max_length=20,
        choices=Level.choices,
        default=confidentiality.DEFAULT_CLEARANCE,
    )
    valid_from = models.DateField(default=timezone.localdate)
    valid_until = models.DateField(null=True, blank=True)

    objects = MembershipQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "unit", "role"], name="one_role_per_unit")
        ]

    def __str__(self) -> str:
        return f"{self.user} {self.role} @ {self.unit}"

    @property
    def authority(self) -> Authority:
        return self.unit.authority


class DelegationQuerySet(models.QuerySet["Delegation"]):
    def in_force(self, day: date | None = None) -> DelegationQuerySet:
        """Delegations that let their delegate act on ``day`` (today by default)."""
        day = day or timezone.localdate()
        return self.filter(valid_from__lte=day, valid_until__gte=day, revoked_at__isnull=True)


class Delegation(models.Model):
    """Someone else may act in an official's role for a time: a **deputy** (zamenik, standing in
    while the official is away) or a **delegation** (ovlašćenje, the official hands a role on
    for a period). What the stand-in does is marked with the kind and the principal's name,
    e.g. "deputy for Branko Šefović" under an approval."""

    class Kind(models.TextChoices):
        DEPUTY = "deputy", _("Deputy")
        DELEGATED = "delegated", _("Delegated")

    principal = models.ForeignKey(User, on_delete=models.PROTECT, related_name="delegations_given")
    delegate = models.ForeignKey(User, on_delete=models.PROTECT, related_name="delegations_held")
    unit = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="delegations")
    role = models.CharField(_("role"), max_length=30, choices=Role.choices)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    valid_from = models.DateField(_("valid from"), default=timezone.localdate)
    valid_until = models.DateField(_("valid until"))
    revoked_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    objects = DelegationQuerySet.as_manager()

    class Meta:
        indexes = [models.Index(fields=["delegate", "valid_until"], name="delegation_delegate_idx")]

    def __str__(self) -> str:
        return f"{self.delegate} {self.kind} for {self.principal} ({self.role} @ {self.unit})"


class Mandate(models.Model):
    """Authority to act for someone else.

    * ``company``: a user represents a company (director, authorised employee).
    * ``counter``: an assisting official at a local counter acts for a citizen, with the
      citizen's recorded consent.
    """

    class Kind(models.TextChoices):
        COMPANY = "company", _("Representative of a company")
        COUNTER = "counter", _("Assisting official at a counter")

    kind = models.CharField(max_length=20, choices=Kind.choices)
    agent = models.ForeignKey(User, on_delete=models.PROTECT, related_name="mandates")
    company = models.ForeignKey(Company, null=True, blank=True, on_delete=models.PROTECT)
    person = models.ForeignKey(Person, null=True, blank=True, on_delete=models.PROTECT)
    consent = models.TextField(
        _("record of consent"),
        blank=True,
        help_text=_("How and when the citizen consented (required for counter assistance)."),
    )
    granted_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    valid_from = models.DateTimeField(default=timezone.now)
    valid_until = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(kind="company", company__isnull=False, person__isnull=True)
                    | models.Q(kind="counter", person__isnull=False, company__isnull=True)
                ),
                name="mandate_principal_matches_kind",
            )
        ]

    def __str__(self) -> str:
        return f"{self.agent} for {self.principal_label}"

    @property
    def principal_ref(self) -> str:
        principal = self.company if self.company_id else self.person
        assert principal is not None
        return principal.ref

    @property
    def principal_label(self) -> str:
        return str(self.company if self.company_id else self.person)

    def is_valid(self, at: Any = None) -> bool:
        at = at or timezone.now()
        return (
            self.revoked_at is None
            and self.valid_from <= at
            and (self.valid_until is None or at < self.valid_until)
        )


class ApiToken(models.Model):
    """A machine client's token. Only its SHA-256 is stored; the secret is shown once."""

    class Scope(models.TextChoices):
        READ = "read", _("Read my data")
        WRITE = "write", _("Act on my behalf")

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(max_length=12, unique=True)
    digest = models.CharField(max_length=64)
    scopes = models.JSONField(default=list)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    loa = models.PositiveSmallIntegerField(
        default=1, help_text=_("Level of assurance of the session that created the token.")
    )

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None and self.expires_at > timezone.now()

    @property
    def scope_labels(self) -> list[str]:
        labels = dict(self.Scope.choices)
        return [str(labels.get(scope, scope)) for scope in self.scopes]


class UserSession(models.Model):
    """A login session, so that a user can see and end their sessions on other devices."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="login_sessions")
    session_key = models.CharField(max_length=40, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_seen_at = models.DateTimeField(auto_now_add=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    method = models.CharField(max_length=20, default="password")
    loa = models.PositiveSmallIntegerField(default=1)
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["user", "ended_at"], name="session_user_open_idx")]

    def __str__(self) -> str:
        return f"{self.user} {self.created_at:%Y-%m-%d %H:%M}"


def official_units(user: User) -> models.QuerySet[Membership]:
    return Membership.objects.in_force().filter(user=user).select_related("unit__authority")

"""Identity use cases. Each runs in one transaction, checks permission and writes its audit
event; views and API handlers only call these."""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import date, timedelta

from django.conf import settings
from django.contrib.auth import password_validation
from django.contrib.sessions.backends.base import SessionBase
from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from salter.audit import services as audit
from salter.authorities.models import OrgUnit
from salter.core import confidentiality
from salter.core.confidentiality import Level
from salter.core.context import Actor
from salter.core.translit import to_latin
from salter.identity import authcache, validators
from salter.identity.models import (
    ApiToken,
    Company,
    Delegation,
    Mandate,
    Membership,
    Person,
    Role,
    User,
    UserSession,
)
from salter.identity.permissions import require_platform_admin, require_user

EMAIL_TOKEN_SALT = "salter.identity.verify-email"  # noqa: S105
EMAIL_TOKEN_MAX_AGE = timedelta(days=2)
RECOVERY_CODE_COUNT = 10
TOKEN_PREFIX = "slt_"  # noqa: S105


# --- Registration and email verification ---------------------------------------------------


@transaction.atomic
def register(
    actor: Actor,
    *,
    email: str,
    full_name: str,
    password: str,
    language: str = "sr",
    jmbg: str = "",
    base_url: str,
) -> User:
    """Create a citizen account and send the email verification link.

    Raises :class:`ValidationError` keyed by field for a taken address, a weak password or a
    JMBG with a wrong check digit.
    """
    email = User.objects.normalize_email(email).strip().lower()
    if User.objects.filter(email__iexact=email).exists():
        raise ValidationError(
            {"email": _("An account with this address exists. Log in or reset the password.")}
        )
    user = User(email=email, full_name=full_name.strip(), language=language)
    try:
        password_validation.validate_password(password, user)
    except ValidationError as exc:
        raise ValidationError({"password1": exc.messages}) from None
    user.set_password(password)
    if jmbg:
        validators.validate_jmbg(jmbg)
        if Person.objects.by_jmbg(jmbg).filter(user__isnull=False).exists():
            raise ValidationError(
                {"jmbg": _("This JMBG belongs to an existing account. Log in instead.")}
            )
        given, _sep, family = user.full_name.partition(" ")
        person, _created = Person.objects.get_or_create_jmbg(
            jmbg,
            {
                "given_name": given,
                "family_name": family,
                "birth_date": validators.jmbg_birth_date(jmbg),
            },
        )
        user.person = person
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError:
        raise ValidationError(
            {"email": _("An account with this address exists. Log in or reset the password.")}
        ) from None
    audit.record(
        actor.as_user(user),
        "user.registered",
        user,
        payload={"with_jmbg": bool(jmbg)},
    )
    transaction.on_commit(lambda: send_verification_email(user, base_url))
    return user


def email_token(user: User) -> str:
    return signing.TimestampSigner(salt=EMAIL_TOKEN_SALT).sign(f"{user.pk}:{user.email}")


def send_verification_email(user: User, base_url: str) -> None:
    link = f"{base_url.rstrip('/')}/register/verify/{email_token(user)}/"
    latin = user.language == "sr-latn"
    with translation.override("sr" if latin else user.language):
        subject = _("Confirm your e-mail address for Šalter")
        body: str = render_to_string("identity/email/verify.txt", {"user": user, "link": link})
    if latin:
        subject, body = to_latin(subject), to_latin(body)
    send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [user.email])


class VerificationError(Exception):
    pass


@transaction.atomic
def verify_email(actor: Actor, token: str) -> User:
    """Mark the address as verified. Idempotent: a second click is harmless."""
    signer = signing.TimestampSigner(salt=EMAIL_TOKEN_SALT)
    try:
        value = signer.unsign(token, max_age=EMAIL_TOKEN_MAX_AGE)
    except signing.SignatureExpired:
        raise VerificationError(
            _("This link has expired. Log in to have a new one sent to you.")
        ) from None
    except signing.BadSignature:
        raise VerificationError(
            _("This link is not valid. Copy the whole link from the e-mail.")
        ) from None
    user_id, _sep, email = value.partition(":")
    user = User.objects.select_for_update().filter(pk=user_id, email=email).first()
    if user is None:
        raise VerificationError(_("This link is not valid. Copy the whole link from the e-mail."))
    if user.email_verified_at is None:
        user.email_verified_at = timezone.now()
        user.save(update_fields=["email_verified_at"])
        audit.record(actor.as_user(user), "user.email_verified", user)
    return user


# --- Sessions ------------------------------------------------------------------------------


@transaction.atomic
def record_login(
    actor: Actor,
    session: SessionBase,
    *,
    method: str,
    loa: int,
    user_agent: str = "",
    replaces: str | None = None,
) -> UserSession:
    """Record a login; ``replaces`` is the key of the same user's session before a re-login."""
    require_user(actor)
    assert actor.user is not None and session.session_key is not None
    if replaces:
        UserSession.objects.filter(session_key=replaces, user=actor.user).update(
            session_key=session.session_key
        )
    login_session, _created = UserSession.objects.update_or_create(
        session_key=session.session_key,
        defaults={
            "user": actor.user,
            "ip": actor.ip,
            "user_agent": user_agent[:300],
            "method": method,
            "loa": loa,
        },
    )
    audit.record(actor, "user.logged_in", actor.user, payload={"method": method, "loa": loa})
    return login_session


@transaction.atomic
def raise_session_level(
    actor: Actor, old_key: str | None, session: SessionBase, *, method: str, loa: int
) -> None:
    """After a second factor: the session key was rotated; follow it and record the level."""
    require_user(actor)
    assert actor.user is not None
    UserSession.objects.filter(session_key=old_key or "", user=actor.user).update(
        session_key=session.session_key, loa=loa, method=method
    )
    audit.record(actor, "user.second_factor", actor.user, payload={"method": method, "loa": loa})


@transaction.atomic
def record_logout(actor: Actor, session_key: str | None) -> None:
    if actor.user is None:
        return
    UserSession.objects.filter(session_key=session_key or "").update(ended_at=timezone.now())
    audit.record(actor, "user.logged_out", actor.user)


def open_sessions(user: User) -> list[UserSession]:
    return list(
        UserSession.objects.filter(user=user, ended_at__isnull=True).order_by("-last_seen_at")
    )


@transaction.atomic
def end_session(actor: Actor, session_id: int) -> None:
    """End one of the actor's own sessions (e.g. on a lost phone)."""
    require_user(actor)
    login_session = UserSession.objects.filter(
        pk=session_id, user=actor.user, ended_at__isnull=True
    ).first()
    if login_session is None:
        raise PermissionDenied(_("No such session."))
    from importlib import import_module

    store = import_module(settings.SESSION_ENGINE).SessionStore
    store(session_key=login_session.session_key).delete()
    login_session.ended_at = timezone.now()
    login_session.save(update_fields=["ended_at"])
    audit.record(actor, "session.ended", login_session)


# --- Second factor -------------------------------------------------------------------------


def new_totp_key() -> str:
    return secrets.token_hex(20)


@transaction.atomic
def confirm_totp(actor: Actor, *, key: str, code: str, name: str) -> list[str]:
    """Save a TOTP device once the user proved it works; return fresh recovery codes."""
    require_user(actor)
    assert actor.user is not None
    device = TOTPDevice(user=actor.user, key=key, name=name or "TOTP", confirmed=False)
    if not device.verify_token(code.strip().replace(" ", "")):
        raise ValidationError(
            {"code": _("That code did not match. Check the time on your phone and try again.")}
        )
    device.confirmed = True
    device.save()
    audit.record(actor, "otp.totp_added", device, payload={"name": device.name})
    return _new_recovery_codes(actor)


@transaction.atomic
def regenerate_recovery_codes(actor: Actor) -> list[str]:
    require_user(actor)
    return _new_recovery_codes(actor)


def _new_recovery_codes(actor: Actor) -> list[str]:
    assert actor.user is not None
    device, _created = StaticDevice.objects.get_or_create(
        user=actor.user, name="recovery", defaults={"confirmed": True}
    )
    device.token_set.all().delete()
    codes = [f"{secrets.token_hex(3)}-{secrets.token_hex(3)}" for _i in range(RECOVERY_CODE_COUNT)]
    StaticToken.objects.bulk_create([StaticToken(device=device, token=c) for c in codes])
    audit.record(actor, "otp.recovery_codes_generated", device, payload={"count": len(codes)})
    return codes


@transaction.atomic
def remove_device(actor: Actor, persistent_id: str) -> None:
    from django_otp import devices_for_user

    require_user(actor)
    assert actor.user is not None
    for device in devices_for_user(actor.user, confirmed=None):
        if device.persistent_id == persistent_id:
            audit.record(actor, "otp.device_removed", device, payload={"name": device.name})
            device.delete()
            return
    raise PermissionDenied(_("No such device."))


def has_second_factor(user: User) -> bool:
    from django_otp import user_has_device

    return user_has_device(user, confirmed=True)


# --- API tokens ----------------------------------------------------------------------------


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@transaction.atomic
def create_api_token(
    actor: Actor, *, name: str, scopes: list[str], days: int, loa: int
) -> tuple[ApiToken, str]:
    """Create a token; the returned secret is never stored and cannot be shown again."""
    require_user(actor)
    assert actor.user is not None
    if not 1 <= days <= settings.SALTER_API_TOKEN_MAX_DAYS:
        raise ValidationError(
            {
                "days": _("Choose between 1 and %(max)d days.")
                % {"max": settings.SALTER_API_TOKEN_MAX_DAYS}
            }
        )
    valid_scopes = set(ApiToken.Scope.values)
    if not scopes or not set(scopes) <= valid_scopes:
        raise ValidationError({"scopes": _("Choose at least one scope.")})
    prefix = secrets.token_hex(4)
    secret = f"{TOKEN_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    token = ApiToken.objects.create(
        user=actor.user,
        name=name.strip() or "API",
        prefix=prefix,
        digest=_digest(secret),
        scopes=sorted(set(scopes)),
        expires_at=timezone.now() + timedelta(days=days),
        loa=loa,
    )
    audit.record(actor, "token.created", token, payload={"scopes": token.scopes, "days": days})
    return token, secret


_PREFIX_SHAPE = re.compile(r"[0-9a-f]{8}")
# What an API request needs of a token and its user; the rest stays deferred (and a save of
# such an instance writes only these fields).
_TOKEN_FIELDS = (
    "id", "prefix", "digest", "scopes", "loa", "expires_at", "last_used_at", "user_id",
    "user__id", "user__email", "user__full_name", "user__kind", "user__is_platform_admin",
    "user__is_active", "user__language",
    # The access log names an API client by its token's name, and never logs a person's
    # reads of their own data (salter.exchange.reads).
    "name", "user__person_id",
)  # fmt: skip


def authenticate_token(secret: str) -> ApiToken | None:
    """Find the active token for ``secret``: at most one indexed query (none while the token
    is in the short-lived cache, see ``authcache``), always a constant-time comparison."""
    if not secret.startswith(TOKEN_PREFIX):
        return None
    prefix, _sep, _rest = secret[len(TOKEN_PREFIX) :].partition("_")
    if not _PREFIX_SHAPE.fullmatch(prefix):
        return None  # never send arbitrary bytes (NUL, say) to the database
    now = timezone.now()
    token: ApiToken | None = authcache.get_token(prefix)
    if token is None:
        # The prefix is unique, so a slice rather than .first(), which would add an ORDER BY.
        found = (
            ApiToken.objects.select_related("user")
            .only(*_TOKEN_FIELDS)
            .filter(prefix=prefix, revoked_at__isnull=True, user__is_active=True)[:1]
        )
        token = found[0] if found else None
        if token is None:
            return None
        if token.last_used_at is None or now - token.last_used_at > timedelta(hours=1):
            # Written at most hourly so a busy client does not turn every read into a write.
            token.last_used_at = now
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        authcache.put_token(prefix, token)
    if token.expires_at <= now or not secrets.compare_digest(token.digest, _digest(secret)):
        return None
    return token


@transaction.atomic
def revoke_api_token(actor: Actor, token_id: int) -> None:
    require_user(actor)
    token = ApiToken.objects.filter(pk=token_id, user=actor.user, revoked_at__isnull=True).first()
    if token is None:
        raise PermissionDenied(_("No such token."))
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at"])
    authcache.forget_token(token.prefix)
    audit.record(actor, "token.revoked", token)


# --- Officials and mandates ----------------------------------------------------------------


@transaction.atomic
def add_official(
    actor: Actor,
    *,
    email: str,
    full_name: str,
    unit: OrgUnit,
    role: str,
    password: str | None,
    clearance: str | None = None,
) -> Membership:
    """Give an official a role in a unit (making their account if needed). ``clearance``: the
    highest confidentiality level they read in that role (the default clearance if None); for
    a membership that exists, a different clearance is set on it (:func:`set_clearance`)."""
    require_platform_admin(actor, or_authority_admin_of=unit.authority)
    if role not in Role.values:
        raise ValidationError({"role": _("Unknown role.")})
    if clearance is not None and clearance not in Level.values:
        raise ValidationError({"clearance": _("Unknown confidentiality level.")})
    user = User.objects.filter(email__iexact=email).first()
    if user is None:
        user = User.objects.create_user(
            email,
            password,
            full_name=full_name,
            kind=User.Kind.OFFICIAL,
            email_verified_at=timezone.now(),
        )
    elif user.kind != User.Kind.OFFICIAL:
        user.kind = User.Kind.OFFICIAL
        user.save(update_fields=["kind"])
    membership, created = Membership.objects.get_or_create(
        user=user,
        unit=unit,
        role=role,
        defaults={"clearance": clearance or confidentiality.DEFAULT_CLEARANCE},
    )
    if not created:
        if clearance is not None and clearance != membership.clearance:
            return set_clearance(actor, membership, clearance)
        return membership
    authcache.forget_user(user.pk)
    audit.record(
        actor,
        "membership.granted",
        membership,
        authority_id=unit.authority_id,
        payload={
            "user": user.pk,
            "unit": unit.code,
            "role": role,
            "clearance": membership.clearance,
        },
    )
    return membership


@transaction.atomic
def set_clearance(actor: Actor, membership: Membership, clearance: str) -> Membership:
    """Change the highest confidentiality level an official reads in one membership (by the
    authority's administrator or a platform administrator). Audited with the old level."""
    membership = (
        Membership.objects.select_for_update(of=("self",))
        .select_related("unit__authority")
        .get(pk=membership.pk)
    )
    require_platform_admin(actor, or_authority_admin_of=membership.unit.authority)
    if clearance not in Level.values:
        raise ValidationError({"clearance": _("Unknown confidentiality level.")})
    previous = membership.clearance
    if previous == clearance:
        return membership
    membership.clearance = clearance
    membership.save(update_fields=["clearance"])
    authcache.forget_user(membership.user_id)
    audit.record(
        actor,
        "membership.clearance_changed",
        membership,
        authority_id=membership.unit.authority_id,
        payload={"user": membership.user_id, "from": previous, "to": clearance},
    )
    return membership


@transaction.atomic
def grant_company_mandate(actor: Actor, *, agent: User, company: Company) -> Mandate:
    """Record that ``agent`` represents ``company`` (from the business register)."""
    require_platform_admin(actor)
    mandate = Mandate.objects.create(
        kind=Mandate.Kind.COMPANY, agent=agent, company=company, granted_by=actor.user
    )
    audit.record(actor, "mandate.granted", mandate, payload={"company": company.pk})
    return mandate


@transaction.atomic
def grant_counter_mandate(actor: Actor, *, person: Person, consent: str) -> Mandate:
    """An assisting official at a local counter starts acting for a citizen, with the citizen's
    consent recorded. The mandate lasts until the end of the day."""
    require_user(actor)
    assert actor.user is not None
    if not actor.user.is_official:
        raise PermissionDenied(_("Only an official at a counter can assist a citizen."))
    if not consent.strip():
        raise ValidationError({"consent": _("Record how the citizen gave consent.")})
    now = timezone.localtime()
    end_of_day = now.replace(hour=23, minute=59, second=59, microsecond=0)
    mandate = Mandate.objects.create(
        kind=Mandate.Kind.COUNTER,
        agent=actor.user,
        person=person,
        consent=consent.strip(),
        granted_by=actor.user,
        valid_until=end_of_day,
    )
    audit.record(actor, "mandate.granted", mandate, payload={"person": person.pk})
    return mandate


def usable_mandates(user: User) -> list[Mandate]:
    now = timezone.now()
    return [
        m
        for m in Mandate.objects.filter(agent=user, revoked_at__isnull=True).select_related(
            "company", "person"
        )
        if m.is_valid(now)
    ]


@transaction.atomic
def revoke_mandate(actor: Actor, mandate_id: int) -> None:
    require_user(actor)
    assert actor.user is not None
    mandate = Mandate.objects.select_for_update().filter(pk=mandate_id).first()
    if mandate is None or not (mandate.agent_id == actor.user.pk or actor.user.is_platform_admin):
        raise PermissionDenied(_("No such mandate."))
    if mandate.revoked_at is None:
        mandate.revoked_at = timezone.now()
        mandate.save(update_fields=["revoked_at"])
        audit.record(actor, "mandate.revoked", mandate)


@transaction.atomic
def start_acting(actor: Actor, mandate_id: int) -> Mandate:
    require_user(actor)
    mandate = (
        Mandate.objects.filter(pk=mandate_id, agent=actor.user)
        .select_related("company", "person")
        .first()
    )
    if mandate is None or not mandate.is_valid():
        raise PermissionDenied(_("This mandate is not valid any more."))
    audit.record(
        Actor(
            user=actor.user,
            on_behalf_of=mandate.principal_ref,
            mandate_id=mandate.pk,
            request_id=actor.request_id,
            ip=actor.ip,
            via=actor.via,
        ),
        "mandate.acting_started",
        mandate,
    )
    return mandate


@transaction.atomic
def password_was_reset(actor: Actor, user: User) -> None:
    """Django's reset view changed the password; end every session and record it."""
    from importlib import import_module

    store = import_module(settings.SESSION_ENGINE).SessionStore
    for login_session in UserSession.objects.filter(user=user, ended_at__isnull=True):
        store(session_key=login_session.session_key).delete()
    UserSession.objects.filter(user=user, ended_at__isnull=True).update(ended_at=timezone.now())
    if user.email_verified_at is None:
        # Following the emailed link proves the address as well as verification would.
        user.email_verified_at = timezone.now()
        user.save(update_fields=["email_verified_at"])
    audit.record(actor.as_user(user), "user.password_reset", user)


# --- deputies and delegations ------------------------------------------------------------------

MAX_DELEGATION_DAYS = 366
NOT_APPOINTING = gettext_noop(
    "Only the official, their head of unit or the authority's administrator can do this."
)


def appointing_authorities(user: User) -> set[int]:
    """The authorities where ``user`` may appoint a stand-in for anyone: as a head of unit or
    the authority's administrator."""
    return set(
        Membership.objects.in_force()
        .filter(user=user, role__in=[Role.HEAD_OF_UNIT, Role.AUTHORITY_ADMIN])
        .values_list("unit__authority_id", flat=True)
    )


def may_appoint(user: User, authority_id: int) -> bool:
    return user.is_platform_admin or authority_id in appointing_authorities(user)


@transaction.atomic
def delegate_role(
    actor: Actor,
    *,
    principal: User,
    delegate: User,
    unit: OrgUnit,
    role: str,
    kind: str,
    valid_until: date,
    valid_from: date | None = None,
    reason: str = "",
) -> Delegation:
    """Let ``delegate`` act in ``principal``'s role in ``unit`` until ``valid_until``.

    The official may hand on their own role; a head of unit or the authority's administrator
    may appoint a deputy for anyone of the authority. The principal must hold the role in
    that unit, and the stand-in must be an official; a delegation has an end (at most a year).
    """
    require_user(actor)
    assert actor.user is not None
    today = timezone.localdate()
    start = valid_from or today
    errors: dict[str, str] = {}
    if kind not in Delegation.Kind.values:
        errors["kind"] = _("Choose deputy or delegation.")
    if not Membership.objects.in_force(start).filter(user=principal, unit=unit, role=role).exists():
        errors["role"] = _("%(name)s does not hold this role in this unit.") % {
            "name": principal.full_name
        }
    if delegate.pk == principal.pk:
        errors["delegate"] = _("Choose someone else to stand in.")
    elif delegate.kind != User.Kind.OFFICIAL or not delegate.is_active:
        errors["delegate"] = _("Only an active official can stand in for an official.")
    if valid_until < start:
        errors["valid_until"] = _("The end must not be before the start.")
    elif (valid_until - start).days > MAX_DELEGATION_DAYS:
        errors["valid_until"] = _("A delegation lasts at most a year.")
    if start < today:
        errors["valid_from"] = _("A delegation cannot start in the past.")
    if errors:
        raise ValidationError({k: [v] for k, v in errors.items()})
    if actor.user.pk != principal.pk and not may_appoint(actor.user, unit.authority_id):
        raise PermissionDenied(_(NOT_APPOINTING))
    delegation = Delegation.objects.create(
        principal=principal,
        delegate=delegate,
        unit=unit,
        role=role,
        kind=kind,
        reason=reason.strip()[:300],
        valid_from=start,
        valid_until=valid_until,
        created_by=actor.user,
    )
    audit.record(
        actor,
        "delegation.granted",
        delegation,
        authority_id=unit.authority_id,
        payload={
            "principal": principal.pk,
            "delegate": delegate.pk,
            "role": role,
            "kind": kind,
            "from": start.isoformat(),
            "until": valid_until.isoformat(),
        },
    )
    return delegation


@transaction.atomic
def revoke_delegation(actor: Actor, delegation: Delegation) -> Delegation:
    """End a delegation now (by the principal, or whoever may appoint one)."""
    require_user(actor)
    assert actor.user is not None
    delegation = Delegation.objects.select_for_update().select_related("unit").get(pk=delegation.pk)
    if delegation.revoked_at is not None:
        return delegation
    if actor.user.pk != delegation.principal_id and not may_appoint(
        actor.user, delegation.unit.authority_id
    ):
        raise PermissionDenied(_(NOT_APPOINTING))
    delegation.revoked_at = timezone.now()
    delegation.save(update_fields=["revoked_at"])
    audit.record(actor, "delegation.revoked", delegation, authority_id=delegation.unit.authority_id)
    return delegation

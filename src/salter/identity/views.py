"""Login, registration, second factor, profile. Thin: parse, call a service, render."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import segno
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import authenticate, logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST
from django_otp import devices_for_user, match_token
from django_otp.plugins.otp_totp.models import TOTPDevice

from salter.core import params, ratelimit
from salter.core.context import Actor
from salter.identity import forms, loa, services
from salter.identity.middleware import ACTING, PENDING_2FA
from salter.identity.models import User
from salter.identity.sessions import complete_second_factor, start_session

TOTP_KEY = "salter_totp_key"
NEXT_MAX = 2000  # the page to return to after logging in: a path with its query


def _next(request: HttpRequest, default: str = "core:home") -> str:
    target = params.text(request.POST, "next", max_length=NEXT_MAX) or params.text(
        request.GET, "next", max_length=NEXT_MAX
    )
    # A path of this site only: redirect() would read "abc" as the name of a URL pattern.
    if target.startswith("/") and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse(default)


def _base_url(request: HttpRequest) -> str:
    return request.build_absolute_uri("/")


def _too_many_attempts(request: HttpRequest, username: str) -> HttpResponse | None:
    """The 429 page once this address or this account is over its rate of login attempts
    (:func:`salter.core.ratelimit.check_login`); checked before the password is hashed and
    before django-axes counts a failure."""
    refusal = ratelimit.check_login(request, username)
    if refusal is None:
        return None
    response = render(
        request, "identity/too_many_attempts.html", {"seconds": refusal.retry_after}, status=429
    )
    response["Retry-After"] = str(refusal.retry_after)
    return response


def login_view(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated and request.method == "GET":
        return redirect(_next(request))
    if request.method == "POST":
        refused = _too_many_attempts(request, str(request.POST.get("username", "")))
        if refused is not None:
            return refused
    form = forms.LoginForm(request.POST or None)
    unverified_email = ""
    if request.method == "POST" and form.is_valid():
        user = authenticate(
            request,
            username=form.cleaned_data["username"].lower(),
            password=form.cleaned_data["password"],
        )
        if getattr(request, "axes_locked_out", False):
            return locked_out(request)
        if user is None:
            form.add_error(None, _("The e-mail address or the password is not right."))
        elif user.email_verified_at is None:
            unverified_email = user.email
            form.add_error(
                None, _("Please confirm your e-mail address first: open the link we sent you.")
            )
        else:
            assert isinstance(user, User)
            start_session(request, user, method="password", level=loa.PASSWORD)
            if services.has_second_factor(user):
                request.session[PENDING_2FA] = True
                return redirect(f"{reverse('identity:login_verify')}?next={_next(request)}")
            if user.needs_second_factor:
                messages.info(request, _("Officials need a second factor. Set one up to continue."))
                return redirect("identity:security")
            return redirect(_next(request))
    return render(
        request,
        "identity/login.html",
        {"form": form, "next": _next(request), "unverified_email": unverified_email},
    )


def locked_out(
    request: HttpRequest, credentials: Any = None, *args: Any, **kwargs: Any
) -> HttpResponse:
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    return render(request, "identity/locked_out.html", {"minutes": minutes}, status=429)


def login_verify(request: HttpRequest) -> HttpResponse:
    """The second step of login, and the step-up page for a higher level of assurance."""
    if not request.user.is_authenticated:
        return redirect(f"{reverse('identity:login')}?next={_next(request)}")
    assert isinstance(request.user, User)
    level = loa.parse_level(request.GET.get("level"))
    if level >= loa.HIGH:
        return render(request, "identity/step_up_high.html", {"next": _next(request)})
    if not services.has_second_factor(request.user):
        messages.info(request, _("This needs a second factor. Set one up first."))
        return redirect(f"{reverse('identity:security')}?next={_next(request)}")
    if request.method == "POST":
        refused = _too_many_attempts(request, request.user.get_username())
        if refused is not None:
            return refused
    form = forms.CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device = match_token(request.user, form.cleaned_data["code"].strip().replace(" ", ""))
        if device is None:
            form.add_error("code", wrong_code_message(request.user))
        else:
            complete_second_factor(request, device, method=device.__class__.__name__.lower())
            return redirect(_next(request))
    return render(
        request,
        "identity/login_verify.html",
        {"form": form, "next": _next(request), "pending": bool(request.session.get(PENDING_2FA))},
    )


def wrong_code_message(user: User) -> str:
    """Say whether to retype or to wait: django-otp slows down guessing after each failure."""
    from django.utils import timezone

    waits = []
    for device in devices_for_user(user, confirmed=True):
        allowed, info = device.verify_is_allowed()
        if not allowed and info and info.get("locked_until"):
            waits.append((info["locked_until"] - timezone.now()).total_seconds())
    if waits:
        seconds = max(1, int(min(waits)) + 1)
        return ngettext(
            "Too many wrong codes. For your safety, wait %(seconds)d second and try again.",
            "Too many wrong codes. For your safety, wait %(seconds)d seconds and try again.",
            seconds,
        ) % {"seconds": seconds}
    return _("That code is not right or was already used. Wait for a new code and try again.")


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    services.record_logout(Actor.from_request(request), request.session.session_key)
    logout(request)
    messages.success(request, _("You are logged out."))
    return redirect("core:home")


def register(request: HttpRequest) -> HttpResponse:
    form = forms.RegisterForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.register(
                Actor.from_request(request),
                email=data["email"],
                full_name=data["full_name"],
                password=data["password1"],
                jmbg=data["jmbg"],
                language=request.LANGUAGE_CODE,
                base_url=_base_url(request),
            )
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            return render(request, "identity/register_done.html", {"email": data["email"]})
    return render(request, "identity/register.html", {"form": form})


def verify_email(request: HttpRequest, token: str) -> HttpResponse:
    try:
        user = services.verify_email(Actor.from_request(request), token)
    except services.VerificationError as exc:
        return render(
            request,
            "identity/verify_email.html",
            {"error": str(exc), "form": forms.ResendForm()},
            status=400,
        )
    return render(request, "identity/verify_email.html", {"verified": user})


@require_POST
def resend_verification(request: HttpRequest) -> HttpResponse:
    form = forms.ResendForm(request.POST)
    if form.is_valid():
        user = User.objects.filter(
            email__iexact=form.cleaned_data["email"], email_verified_at__isnull=True
        ).first()
        if user is not None:
            services.send_verification_email(user, _base_url(request))
    # The same answer whether or not the address has an account: no enumeration.
    messages.info(request, _("If that address needs confirming, a new link is on its way."))
    return redirect("identity:login")


@login_required
def security(request: HttpRequest) -> HttpResponse:
    """Second factors: TOTP with its QR code, recovery codes and passkeys."""
    assert isinstance(request.user, User)
    actor = Actor.from_request(request)
    key = request.session.get(TOTP_KEY) or services.new_totp_key()
    request.session[TOTP_KEY] = key
    form = forms.TotpConfirmForm(request.POST or None)
    codes: list[str] = []
    if request.method == "POST" and form.is_valid():
        try:
            codes = services.confirm_totp(
                actor, key=key, code=form.cleaned_data["code"], name=form.cleaned_data["name"]
            )
        except ValidationError as exc:
            form.add_error("code", exc.message_dict["code"][0])
        else:
            del request.session[TOTP_KEY]
            device = TOTPDevice.objects.filter(user=request.user).order_by("-id").first()
            complete_second_factor(request, device, method="totp")
            messages.success(request, _("Two-factor login is on."))
            return render(
                request, "identity/recovery_codes.html", {"codes": codes, "next": _next(request)}
            )
    device = TOTPDevice(user=request.user, key=key, name="new")
    qr = segno.make(device.config_url, error="m")
    return render(
        request,
        "identity/security.html",
        {
            "form": form,
            "qr_svg": qr.svg_inline(scale=4, dark="#000", light="#fff", title=_("QR code")),
            "secret": _b32(key),
            "devices": list(devices_for_user(request.user, confirmed=True)),
            "next": _next(request, "identity:profile"),
            "officials_must": request.user.needs_second_factor,
        },
    )


def _b32(hex_key: str) -> str:
    from base64 import b32encode

    raw = b32encode(bytes.fromhex(hex_key)).decode().rstrip("=")
    return " ".join(raw[i : i + 4] for i in range(0, len(raw), 4))


@login_required
@require_POST
def recovery_codes(request: HttpRequest) -> HttpResponse:
    if loa.of(request) < loa.TWO_FACTOR:
        return redirect(loa.step_up_url(request, loa.TWO_FACTOR))
    codes = services.regenerate_recovery_codes(Actor.from_request(request))
    return render(
        request,
        "identity/recovery_codes.html",
        {"codes": codes, "next": reverse("identity:security")},
    )


@login_required
@require_POST
def remove_device(request: HttpRequest) -> HttpResponse:
    if loa.of(request) < loa.TWO_FACTOR:
        return redirect(loa.step_up_url(request, loa.TWO_FACTOR))
    device = params.text(request.POST, "device", max_length=200)
    return _act(
        request,
        lambda actor: services.remove_device(actor, device),
        _("The device was removed."),
        "identity:security",
    )


@login_required
def profile(request: HttpRequest) -> HttpResponse:
    assert isinstance(request.user, User)
    token_form = forms.ApiTokenForm()
    return render(
        request,
        "identity/profile.html",
        {
            "sessions": services.open_sessions(request.user),
            "current_key": request.session.session_key,
            "devices": list(devices_for_user(request.user, confirmed=True)),
            "tokens": request.user.api_tokens.order_by("-created_at", "-id"),
            "token_form": token_form,
            "mandates": services.usable_mandates(request.user),
            "memberships": request.user.memberships.select_related("unit__authority"),
            "level": loa.of(request),
        },
    )


def _act(
    request: HttpRequest, use_case: Callable[[Actor], object], done: str, then: str
) -> HttpResponse:
    """Run a use case for a POST button: report success or the refusal, then go back."""
    try:
        use_case(Actor.from_request(request))
    except PermissionDenied as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, done)
    return redirect(then)


def _add_errors(form: Any, exc: ValidationError) -> None:
    for field, errors in exc.message_dict.items():
        for error in errors:
            form.add_error(field if field in form.fields else None, error)


@login_required
@require_POST
def end_session(request: HttpRequest, session_id: int) -> HttpResponse:
    return _act(
        request,
        lambda actor: services.end_session(actor, session_id),
        _("The session was ended."),
        "identity:profile",
    )


@login_required
def create_token(request: HttpRequest) -> HttpResponse:
    form = forms.ApiTokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            token, secret = services.create_api_token(
                Actor.from_request(request),
                name=form.cleaned_data["name"],
                scopes=form.cleaned_data["scopes"],
                days=form.cleaned_data["days"],
                loa=loa.of(request),
            )
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            return render(
                request, "identity/token_created.html", {"token": token, "secret": secret}
            )
    return render(request, "identity/token_form.html", {"form": form})


@login_required
@require_POST
def revoke_token(request: HttpRequest, token_id: int) -> HttpResponse:
    return _act(
        request,
        lambda actor: services.revoke_api_token(actor, token_id),
        _("The token was revoked."),
        "identity:profile",
    )


@login_required
@require_POST
def act_for(request: HttpRequest) -> HttpResponse:
    mandate_id = params.optional_id(request.POST, "mandate")
    if mandate_id is None:
        request.session.pop(ACTING, None)
        messages.info(request, _("You now act for yourself."))
        return redirect("identity:profile")
    try:
        mandate = services.start_acting(Actor.from_request(request), mandate_id)
    except PermissionDenied as exc:
        messages.error(request, str(exc))
    else:
        request.session[ACTING] = mandate.pk
        messages.success(request, _("You now act for %(who)s.") % {"who": mandate.principal_label})
    return redirect("identity:profile")


class PasswordResetView(auth_views.PasswordResetView):
    template_name = "identity/password_reset.html"
    email_template_name = "identity/email/password_reset.txt"
    subject_template_name = "identity/email/password_reset_subject.txt"
    success_url = reverse_lazy("identity:password_reset_done")


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "identity/password_reset_confirm.html"
    success_url = reverse_lazy("identity:password_reset_complete")

    def form_valid(self, form: Any) -> HttpResponse:
        response = super().form_valid(form)
        services.password_was_reset(Actor.from_request(self.request), form.user)
        return response

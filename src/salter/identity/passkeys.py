"""Passkeys (WebAuthn) through django-otp-webauthn, wired to Šalter's levels and audit log."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.http import HttpResponse
from django_otp_webauthn import views as webauthn_views
from django_otp_webauthn.models import WebAuthnCredential

from salter.audit import services as audit
from salter.core.context import Actor
from salter.identity import loa
from salter.identity.sessions import complete_second_factor


class CompleteRegistration(webauthn_views.CompleteCredentialRegistrationView):
    """Creating a passkey is a ceremony with user verification, so, like confirming a new TOTP
    app, it raises the session to two factors."""

    def post(self, *args: Any, **kwargs: Any) -> HttpResponse:
        with transaction.atomic():
            response = super().post(*args, **kwargs)
            if response.status_code == 200:
                device = WebAuthnCredential.objects.filter(user=self.request.user).latest("pk")
                audit.record(Actor.from_request(self.request), "otp.passkey_added", device)
                if loa.of(self.request) < loa.TWO_FACTOR:
                    complete_second_factor(self.request, device, method="passkey")
        return response


class CompleteAuthentication(webauthn_views.CompleteCredentialAuthenticationView):
    """Only the second step: the password comes first (passwordless login is switched off)."""

    def complete_auth(self, device: Any) -> Any:
        complete_second_factor(self.request, device, method="passkey")

"""Passkeys (WebAuthn) through django-otp-webauthn, wired to Šalter's levels and audit log."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.http import HttpResponse
from django_otp_webauthn import views as webauthn_views
from django_otp_webauthn.models import WebAuthnCredential

from salter.audit import services as audit
from salter.core.context import Actor


class CompleteRegistration(webauthn_views.CompleteCredentialRegistrationView):
    def post(self, *args: Any, **kwargs: Any) -> HttpResponse:
        with transaction.atomic():
            response = super().post(*args, **kwargs)
            if response.status_code == 200:
                device = WebAuthnCredential.objects.filter(user=self.request.user).latest("pk")
                audit.record(Actor.from_request(self.request), "otp.passkey_added", device)
        return response


class CompleteAuthentication(webauthn_views.CompleteCredentialAuthenticationView):
    """Only the second step: the password comes first (passwordless login is switched off)."""

    def complete_auth(self, device: Any) -> Any:
        from salter.identity.views import complete_second_factor

        complete_second_factor(self.request, device, method="passkey")

from django.urls import include, path

from salter.core.api import build
from salter.core.views import set_language
from salter.identity import passkeys
from salter.registers.api import api as registers_api

api = build()

urlpatterns = [
    path("", include("salter.core.urls")),
    path("", include("salter.catalog.urls")),
    path("", include("salter.cases.urls")),
    path("i18n/setlang/", set_language, name="set_language"),
    path("pki/", include("salter.documents.pki_urls")),
    path("verify/", include("salter.documents.verify_urls")),
    path("mailbox/", include("salter.mailbox.urls")),
    path("payments/", include("salter.payments.urls")),
    path("account/notifications/", include("salter.mailbox.preference_urls")),
    path("my/data/", include("salter.exchange.urls")),
    path("", include("salter.identity.urls")),
    path("official/", include("salter.identity.official_urls")),
    path("official/evidence/", include("salter.exchange.official_urls")),
    path(
        "webauthn/registration/complete/",
        passkeys.CompleteRegistration.as_view(),
        name="passkey_registration_complete",
    ),
    path(
        "webauthn/authentication/complete/",
        passkeys.CompleteAuthentication.as_view(),
        name="passkey_authentication_complete",
    ),
    path("webauthn/", include("django_otp_webauthn.urls", namespace="otp_webauthn")),
    path("api/v1/", api.urls),
    # The demo registers: a separate data service that shares the deployment (docs/exchange.md).
    path("registers/", registers_api.urls),
]

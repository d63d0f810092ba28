from django.urls import include, path

from salter.core.api import build
from salter.core.views import set_language
from salter.identity import passkeys
from salter.registers.api import api as registers_api

api = build()

# Error pages on the site's layout, in the reader's language, with the request for its context
# (Django's default 500 renders without one). /api/ and /registers/ answer JSON instead.
handler400 = "salter.core.views.bad_request"
handler403 = "salter.core.views.permission_denied"
handler404 = "salter.core.views.page_not_found"
handler500 = "salter.core.views.server_error"

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

from django.contrib.auth import views as auth_views
from django.urls import path

from salter.identity import oidc, views

app_name = "identity"

urlpatterns = [
    path("login/", views.login_view, name="login"),
    path("login/verify/", views.login_verify, name="login_verify"),
    path("login/step-up/", views.login_verify, name="step_up"),
    path("login/oidc/", oidc.start, name="oidc_start"),
    path("login/oidc/callback/", oidc.callback, name="oidc_callback"),
    path("logout/", views.logout_view, name="logout"),
    path("register/", views.register, name="register"),
    path("register/verify/<str:token>/", views.verify_email, name="verify_email"),
    path("register/resend/", views.resend_verification, name="resend_verification"),
    path("password/reset/", views.PasswordResetView.as_view(), name="password_reset"),
    path(
        "password/reset/sent/",
        auth_views.PasswordResetDoneView.as_view(template_name="identity/password_reset_done.html"),
        name="password_reset_done",
    ),
    path(
        "password/reset/<uidb64>/<token>/",
        views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "password/reset/complete/",
        auth_views.PasswordResetCompleteView.as_view(
            template_name="identity/password_reset_complete.html"
        ),
        name="password_reset_complete",
    ),
    path("account/", views.profile, name="profile"),
    path("account/security/", views.security, name="security"),
    path("account/security/recovery-codes/", views.recovery_codes, name="recovery_codes"),
    path("account/security/remove/", views.remove_device, name="remove_device"),
    path("account/sessions/<id:session_id>/end/", views.end_session, name="end_session"),
    path("account/tokens/new/", views.create_token, name="create_token"),
    path("account/tokens/<id:token_id>/revoke/", views.revoke_token, name="revoke_token"),
    path("account/act-for/", views.act_for, name="act_for"),
]

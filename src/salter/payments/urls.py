"""The applicant's payment slips, under /payments/."""

from django.urls import path

from salter.payments import views

app_name = "payments"

urlpatterns = [
    path("<id:order_id>/", views.slip, name="slip"),
    path("<id:order_id>/slip.pdf", views.slip_pdf, name="slip_pdf"),
    path("<id:order_id>/qr.png", views.qr_png, name="qr_png"),
]

from django.urls import path

from salter.mailbox import preference_views

app_name = "notifications"

urlpatterns = [
    path("", preference_views.edit, name="preferences"),
]

from django.urls import path

from salter.identity import official_views

app_name = "official"

urlpatterns = [
    path("", official_views.dashboard, name="dashboard"),
]

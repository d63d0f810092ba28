from django.urls import include, path

from salter.identity import official_views

app_name = "official"

urlpatterns = [
    path("", official_views.dashboard, name="dashboard"),
    path("", include("salter.catalog.official_urls")),
    path("cases/", include("salter.cases.official_urls")),
]

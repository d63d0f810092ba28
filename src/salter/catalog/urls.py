from django.urls import path

from salter.catalog import views

app_name = "catalog"

urlpatterns = [
    path(
        "schemas/service-definition/v1.json",
        views.definition_schema_v1,
        name="definition_schema_v1",
    ),
]

from __future__ import annotations

from django.urls import include, path

from tests.support.apps.djangoproj import views

api = [path("users/<int:uid>", views.user)]

urlpatterns = [
    path("users/<int:uid>", views.user),
    path("async/users/<int:uid>", views.async_user),
    path("items/<str:rid>", views.item),
    path("async/items/<str:rid>", views.async_item),
    path("echo", views.echo),
    path("headers", views.headers),
    path("boom", views.boom),
    path("sql", views.sql),
    path("async/sql", views.async_sql),
    path("ran", views.ran),
    path("stream", views.stream),
    path("stream/release", views.release),
    path("api/", include(api)),
]

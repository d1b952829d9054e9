"""URLconf of the Django benchmark app."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.urls import path

from benchmarks.apps import USER


def user(request: HttpRequest, uid: int) -> JsonResponse:
    return JsonResponse(USER | {"id": uid})


urlpatterns = [path("users/<int:uid>", user)]

from __future__ import annotations

import pytest

from tracesec.discovery.routes import template_from_path, template_from_route


@pytest.mark.parametrize(
    ("route", "template"),
    [
        ("/users/<int:uid>", "/users/{uid}"),  # Flask / Werkzeug
        ("/files/<path:name>", "/files/{name}"),
        ("/users/<uid>/orders/<int(signed=True):oid>", "/users/{uid}/orders/{oid}"),
        ("/users/{uid}", "/users/{uid}"),  # Starlette / FastAPI
        ("/users/{uid:int}/files/{rest:path}", "/users/{uid}/files/{rest}"),
        ("/articles/<slug:slug>/", "/articles/{slug}/"),  # Django path()
        ("^articles/(?P<year>[0-9]{4})/(?P<slug>[\\w-]+)/$", "/articles/{year}/{slug}/"),  # re_path()
        ("/static/about", "/static/about"),
    ],
)
def test_framework_routes_become_openapi_templates(route: str, template: str) -> None:
    assert template_from_route(route) == template


@pytest.mark.parametrize(
    ("path", "template", "values"),
    [
        ("/users/42", "/users/{user_id}", {"user_id": "42"}),
        (
            "/orders/3fa85f64-5717-4562-b3fc-2c963f66afa6",
            "/orders/{order_id}",
            {"order_id": "3fa85f64-5717-4562-b3fc-2c963f66afa6"},
        ),
        (
            "/objects/507f1f77bcf86cd799439011",
            "/objects/{object_id}",
            {"object_id": "507f1f77bcf86cd799439011"},
        ),
        ("/tokens/dGhpc0lzQVRva2VuMTIzNDU2", "/tokens/{token_id}", {"token_id": "dGhpc0lzQVRva2VuMTIzNDU2"}),
        ("/people/ann@example.com/profile", "/people/{people_id}/profile", {"people_id": "ann@example.com"}),
        ("/reports/2024-03-01", "/reports/{report_id}", {"report_id": "2024-03-01"}),
        (
            "/categories/7/items/9",
            "/categories/{category_id}/items/{item_id}",
            {"category_id": "7", "item_id": "9"},
        ),
        ("/42", "/{id}", {"id": "42"}),
    ],
)
def test_identifiers_in_raw_paths_become_parameters(path: str, template: str, values: dict[str, str]) -> None:
    assert template_from_path(path) == (template, values)


@pytest.mark.parametrize(
    "path",
    ["/users/me", "/api/v1/health", "/blog/release-notes-for-2024-q1", "/static/app.js", "/deadbeef", "/"],
)
def test_names_in_raw_paths_stay(path: str) -> None:
    assert template_from_path(path) == (path, {})


def test_raw_path_template_is_stable_across_requests() -> None:
    first, _ = template_from_path("/users/1/users/2")
    second, values = template_from_path("/users/8812/users/99")
    assert first == second == "/users/{user_id}/users/{user_id2}"
    assert values == {"user_id": "8812", "user_id2": "99"}

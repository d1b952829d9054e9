"""Which values of a request count as user input, under which path, decoded as the app decodes them, and
bounded however hostile the request."""

from __future__ import annotations

import json
from typing import Any

import pytest
from werkzeug.wrappers import Request

from tracesec.config import Config
from tracesec.context import EnvironHeaders, RequestContext
from tracesec.protect.inputs import extract_inputs


def request(
    query: str = "",
    body: bytes | None = None,
    content_type: str | None = None,
    headers: dict[str, str] | None = None,
    path_params: dict[str, Any] | None = None,
) -> RequestContext:
    environ = {"HTTP_" + name.upper().replace("-", "_"): value for name, value in (headers or {}).items()}
    if content_type:
        environ["CONTENT_TYPE"] = content_type
    ctx = RequestContext(
        Config.load(environ={}),
        "test",
        "GET",
        "http",
        "testserver",
        "/",
        query,
        EnvironHeaders(environ),
        "203.0.113.7",
        5000,
    )
    ctx.path_params = path_params
    if body is not None:
        ctx.request_body = bytearray(body)
    return ctx


def inputs_of(ctx: RequestContext, limit: int = 1000, ignored: tuple[str, ...] = ()) -> dict[str, str]:
    return dict(extract_inputs(ctx, limit, ignored).all)


def test_query_is_url_decoded_as_the_app_sees_it() -> None:
    # WSGI hands the raw bytes as latin-1 code points: 'é' arrives as 'Ã©'
    ctx = request("name=x%27+OR+1%3D1&city=Z%C3%BCrich&raw=caf\u00c3\u00a9&empty=&flag")
    assert inputs_of(ctx) == {"query.name": "x' OR 1=1", "query.city": "Zürich", "query.raw": "café"}


@pytest.mark.parametrize(
    ("raw", "replaced", "kept"),
    [
        ("..%c0%af..%c0%afetc", "..\ufffd\ufffd..\ufffd\ufffdetc", "..%C0%AF..%C0%AFetc"),
        ("%ff%2e", "\ufffd.", "%FF."),
        ("caf%C3%A9+%E2%82", "caf\u00e9 \ufffd", "caf\u00e9 %E2%82"),
    ],
)
def test_invalid_utf8_escapes_are_kept_in_both_framework_readings(raw: str, replaced: str, kept: str) -> None:
    """parse_qsl, Django and Starlette put U+FFFD where Werkzeug (Flask) keeps the escape as text: the
    app may splice either into its sink, so both are inputs."""
    assert Request({"QUERY_STRING": f"name={raw}"}).args["name"] == kept
    values = extract_inputs(request(f"name={raw}"), 1000).all
    assert values == (("query.name", replaced), ("query.name", kept))
    body = extract_inputs(
        request(body=f"name={raw}".encode(), content_type="application/x-www-form-urlencoded"), 1000
    ).all
    assert body == (("body.name", replaced), ("body.name", kept))


def test_valid_utf8_has_one_reading() -> None:
    assert extract_inputs(request("city=Z%C3%BCrich&p=a%2Bb+c"), 1000).all == (
        ("query.city", "Zürich"),
        ("query.p", "a+b c"),
    )


def test_form_body_and_path_parameters() -> None:
    ctx = request(
        body=b"user=ann&note=a%2Fb",
        content_type="application/x-www-form-urlencoded",
        path_params={"id": 42, "slug": "a-b"},
    )
    assert inputs_of(ctx) == {"path.id": "42", "path.slug": "a-b", "body.user": "ann", "body.note": "a/b"}


def test_json_strings_and_numbers_with_their_paths() -> None:
    document = {"user": {"email": "a@b.c", "age": 7, "admin": True}, "items": [{"name": "x'"}, 2.5, None]}
    ctx = request(body=json.dumps(document).encode(), content_type="application/json; charset=utf-8")
    assert inputs_of(ctx) == {
        "body.user.email": "a@b.c",
        "body.user.age": "7",
        "body.items.0.name": "x'",
        "body.items.1": "2.5",
    }


def test_cookies_and_the_headers_clients_set_freely() -> None:
    ctx = request(
        headers={
            "cookie": 'session=abc; pref="dark mode"',
            "user-agent": "sqlmap/1.7",
            "referer": "http://x/",
            "x-forwarded-host": "evil.test",
            "x-tenant": "t1",
            "authorization": "Bearer secret-token",
            "accept": "text/html",
            "host": "testserver",
        }
    )
    assert inputs_of(ctx) == {
        "cookie.session": "abc",
        "cookie.pref": "dark mode",
        "header.user-agent": "sqlmap/1.7",
        "header.referer": "http://x/",
        "header.x-forwarded-host": "evil.test",
        "header.x-tenant": "t1",
    }


def test_multipart_field_values_and_file_names_but_not_file_contents() -> None:
    body = (
        b'--XyZ\r\nContent-Disposition: form-data; name="title"\r\n\r\nmy \' title\r\n'
        b'--XyZ\r\nContent-Disposition: form-data; name="upload"; filename="../../x.php"\r\n'
        b"Content-Type: application/octet-stream\r\n\r\n<?php system($_GET[c]); ?>\r\n--XyZ--\r\n"
    )
    ctx = request(body=body, content_type="multipart/form-data; boundary=XyZ")
    assert inputs_of(ctx) == {"body.title": "my ' title", "body.upload.filename": "../../x.php"}


def test_each_value_is_kept_once_under_the_first_path_that_carried_it() -> None:
    ctx = request("a=same&b=same", headers={"x-copy": "same"})
    assert inputs_of(ctx) == {"query.a": "same"}


def test_only_values_that_could_change_a_structure_are_tried_at_sql_shell_and_path_sinks() -> None:
    inputs = extract_inputs(request("id=42&name=ann&q=x'y&dot=a.b&one=%27"), 1000)
    assert [path for path, _ in inputs.structural] == ["query.q", "query.dot"]
    assert len(inputs.all) == 5


def test_allow_listed_inputs_are_left_out() -> None:
    document = {"sql": "SELECT 1", "items": [{"template": "a/../b"}, {"other": "y'"}]}
    ctx = request("sql=SELECT+2&keep=x'", json.dumps(document).encode(), "application/json")
    kept = inputs_of(ctx, ignored=("query.sql", "body.items.*.template", "body.sql"))
    assert kept == {"query.keep": "x'", "body.items.1.other": "y'"}


def test_ten_thousand_parameters_are_capped_and_counted() -> None:
    ctx = request("&".join(f"p{i}=v{i}'" for i in range(10_000)))
    inputs = extract_inputs(ctx, 1000)
    assert len(inputs.all) == 1000
    assert inputs.dropped == 9000


def test_ten_thousand_levels_of_json_still_yield_the_strings() -> None:
    body = ('{"a": "x\' OR 1=1", "deep": ' + "[" * 10_000 + '"bottom"' + "]" * 10_000 + "}").encode()
    values = {
        value for _, value in extract_inputs(request(body=body, content_type="application/json"), 1000).all
    }
    assert {"x' OR 1=1", "bottom"} <= values


def test_deep_but_parseable_json_names_paths_up_to_a_bounded_depth() -> None:
    document: Any = "leaf'"
    for _ in range(200):
        document = {"k": document}
    [(path, value)] = inputs_of(
        request(body=json.dumps(document).encode(), content_type="application/json")
    ).items()
    assert value == "leaf'"
    assert path.count(".") == 32


def test_a_json_body_cut_at_the_capture_cap_still_yields_its_complete_strings() -> None:
    body = b'{"name": "x\' OR 1=1 --", "bio": "very long text cut he'
    inputs = extract_inputs(request(body=body, content_type="application/json"), 1000).all
    assert inputs == (("body", "name"), ("body", "x' OR 1=1 --"), ("body", "bio"))  # keys are client's too

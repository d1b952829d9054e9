"""The dashboard in headless Chromium against a real collector holding the demo's data (with an API key,
so the page must ask for it): every view is opened, clicked and checked, and screenshotted to
artifacts/screenshots/."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from chromium_devtools import Browser, chromium_available

from tests.support.demo import BEHAVIOURS, INJECTIONS, run_demo
from tracesec.collector.process import CollectorProcess
from tracesec.demo.runner import COLLECTOR_ARGS

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not chromium_available(),
        reason="Chromium is not installed (apt-get install chromium; .ci/run installs it when run as root)",
    ),
]

API_KEY = "dashboard-test-key"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
ATTACKS = (*INJECTIONS, *BEHAVIOURS)


@pytest.fixture(scope="module")
def collector(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CollectorProcess]:
    """The demo fills a database; a collector with an API key then serves it."""
    db = tmp_path_factory.mktemp("dashboard") / "collector.sqlite"
    demo = run_demo(db)
    assert demo.returncode == 0, demo.stdout + demo.stderr
    assert "MISSED" not in demo.stdout, demo.stdout
    with CollectorProcess(db, api_key=API_KEY, extra_args=COLLECTOR_ARGS) as process:
        _await_baseline(process, "GET /api/products")
        yield process


def api(collector: CollectorProcess, path: str, **params: Any) -> Any:
    """What the page reads, read directly: the figures a view must show."""
    reply = httpx.get(collector.url + path, params=params, headers=collector.headers, timeout=30)
    reply.raise_for_status()
    return reply.json()


def _await_baseline(collector: CollectorProcess, route: str) -> None:
    """Until the baseline job has fed the demo's closed buckets of ``route`` (bounded: about 20 s)."""
    for _ in range(200):
        baselines = api(collector, "/v1/baselines", service="shop", route=route)["baselines"]
        if baselines and len(baselines[0]["metrics"]["requests"]["buckets"]) >= 2:
            return
        time.sleep(0.1)
    raise AssertionError(f"no baseline of {route}")


@pytest.fixture(scope="module")
def page(collector: CollectorProcess) -> Iterator[Browser]:
    browser = Browser()
    try:
        browser.open(collector.url + "/")
        yield browser
    finally:
        browser.close()


def show(page: Browser, view: str) -> str:
    """Open a view by its navigation link; the text of the main region once it has been drawn anew (or
    at once when it is the current view, which a click does not redraw)."""
    before = page.evaluate("document.querySelector('main').dataset.shown || '0'")
    current = page.evaluate(f"location.hash === {json.dumps('#/' + view)}")
    page.click(f'#nav a[data-view="{view}"]')
    page.wait_until(
        f"document.querySelector('main').dataset.view === {json.dumps(view)}"
        " && document.querySelector('main').getAttribute('aria-busy') === 'false'"
        + ("" if current else f" && document.querySelector('main').dataset.shown !== {json.dumps(before)}")
    )
    text: str = page.evaluate("document.querySelector('main').innerText")
    return text


def shoot(page: Browser, name: str) -> None:
    page.screenshot(SCREENSHOTS / f"{name}.png")


def test_01_asks_for_the_api_key_and_keeps_it(page: Browser) -> None:
    assert page.wait_until("document.getElementById('key-dialog').open")
    assert "needs an API key" in page.evaluate("document.querySelector('main').innerText")
    shoot(page, "01-api-key")
    page.click("#key-input")
    page.type_text(API_KEY)
    page.press_enter()
    page.wait_until("document.querySelectorAll('#inventory-table tbody tr').length > 0")
    assert page.evaluate("localStorage.getItem('tracesec.apiKey')") == API_KEY
    assert not page.evaluate("document.getElementById('key-dialog').open")


def test_02_inventory_lists_the_routes_sorted_by_risk(page: Browser) -> None:
    text = show(page, "inventory")
    for route in (
        "/api/login",
        "/api/orders/{order_id}",
        "/api/search",
        "/api/partner/customers",
        "/api/preview",
    ):
        assert route in text
    risks = page.evaluate(
        "[...document.querySelectorAll('#inventory-table [data-risk]')].map(e => +e.dataset.risk)"
    )
    assert risks == sorted(risks, reverse=True) and risks[0] > risks[-1]
    shoot(page, "02-inventory")

    page.click('button[data-sort="risk"]')
    ascending = page.evaluate(
        "[...document.querySelectorAll('#inventory-table [data-risk]')].map(e => +e.dataset.risk)"
    )
    assert ascending == sorted(risks)
    page.click('button[data-sort="calls"]')
    calls = page.evaluate(
        "[...document.querySelectorAll('#inventory-table tbody tr')]"
        ".map(r => +r.cells[5].innerText.replace(/\\D/g, ''))"
    )
    assert calls == sorted(calls, reverse=True)


def test_03_endpoint_detail_shows_parameters_and_risk_reasons(page: Browser) -> None:
    show(page, "inventory")
    page.click('#inventory-table tr[data-route="/api/orders/{order_id}"] button.link')
    detail = page.wait_until("document.getElementById('endpoint-detail')?.innerText")
    assert "GET /api/orders/{order_id}" in detail
    assert "order_id" in detail
    assert "credit_card" in detail
    reasons = page.evaluate("document.querySelectorAll('#endpoint-detail .reasons li').length")
    assert reasons >= 2
    shoot(page, "03-endpoint-detail")


def test_03b_endpoint_detail_draws_its_baseline(page: Browser, collector: CollectorProcess) -> None:
    (expected,) = api(collector, "/v1/baselines", service="shop", route="GET /api/products")["baselines"]
    show(page, "inventory")
    page.click('#inventory-table tr[data-route="/api/products"][data-method="GET"] button.link')
    page.wait_until("document.getElementById('endpoint-baseline')?.getAttribute('aria-busy') === 'false'")
    charts = page.evaluate(
        "[...document.querySelectorAll('#endpoint-baseline svg.baseline')].map(c => ({"
        "metric: c.dataset.metric, buckets: +c.querySelector('.series').dataset.buckets,"
        " band: c.querySelector('.band')"
        ".getAttribute('points').split(' ').length, anomalies: c.querySelectorAll('.anomaly').length}))"
    )
    assert [chart["metric"] for chart in charts] == ["requests", "response_bytes"]
    for chart in charts:
        buckets = expected["metrics"][chart["metric"]]["buckets"]
        assert chart["buckets"] >= len(buckets) >= 2  # the job may have fed more since
        assert chart["band"] == 2 * chart["buckets"]
        assert chart["anomalies"] == sum(bucket["anomaly"] for bucket in buckets) or chart["buckets"] > len(
            buckets
        )
    page.evaluate("document.getElementById('endpoint-baseline').scrollIntoView()")
    shoot(page, "03b-endpoint-baseline")


def test_04_service_map_draws_the_shop_and_its_database(page: Browser) -> None:
    show(page, "service-map")
    nodes = page.evaluate("[...document.querySelectorAll('svg.graph .node')].map(n => n.dataset.id)")
    assert "shop" in nodes
    assert "sqlite:shop.sqlite" in nodes
    assert page.evaluate("document.querySelectorAll('svg.graph .edge').length") >= 2
    shoot(page, "04-service-map")


def test_05_incident_timeline_has_every_attack_and_its_evidence(page: Browser) -> None:
    show(page, "incidents")
    types = page.evaluate(
        "[...document.querySelectorAll('svg.timeline .incident')].map(g => g.dataset.types)"
    )
    drawn = {kind for entry in types for kind in entry.split()}
    assert drawn >= set(ATTACKS)
    page.click("svg.timeline .incident[data-types~='sql_injection'] .lane")
    detail = page.wait_until("document.getElementById('incident-detail')?.innerText")
    assert "sql_injection" in detail
    assert "blocked" in detail
    assert (
        page.evaluate("document.querySelectorAll('#incident-detail tr[data-type=\"sql_injection\"]').length")
        == 1
    )
    shoot(page, "05-incidents")


def test_06_actor_clusters_outliers_and_lookalike_attackers(
    page: Browser, collector: CollectorProcess
) -> None:
    expected = api(collector, "/v1/clusters", service="shop")
    assert expected["clusters"] and expected["outliers"] and expected["lookalike_attackers"]
    show(page, "actors")
    boxes = page.evaluate(
        "Object.fromEntries([...document.querySelectorAll('svg.clusters g[data-cluster]')]"
        ".map(g => [g.dataset.cluster, [...g.querySelectorAll('circle.actor')].map(c => c.dataset.actor)]))"
    )
    for cluster in expected["clusters"]:
        assert sorted(boxes[cluster["cluster_id"]]) == sorted(cluster["members"])
    assert sorted(boxes["outliers"]) == sorted(outlier["actor"] for outlier in expected["outliers"])
    marked = page.evaluate(
        "[...document.querySelectorAll('circle.actor.lookalike')].map(c => c.dataset.actor)"
    )
    lookalikes = sorted(lookalike["actor"] for lookalike in expected["lookalike_attackers"])
    assert sorted(marked) == lookalikes
    listed = page.evaluate("[...document.querySelectorAll('#lookalikes tbody tr')].map(r => r.dataset.actor)")
    assert sorted(listed) == lookalikes
    page.click(f'circle.actor[data-actor="{lookalikes[0]}"]')
    detail = page.wait_until("document.getElementById('actor-detail')?.innerText")
    assert "Looks like that cluster, but attacked" in detail and "Routes called" in detail
    shoot(page, "06-actors")
    page.click(f'circle.actor[data-actor="{expected["outliers"][0]["actor"]}"]')
    assert "Outlier" in page.wait_until("document.getElementById('actor-detail')?.innerText")


def test_07_api_flow_graph_draws_the_collectors_flows(page: Browser, collector: CollectorProcess) -> None:
    expected = api(collector, "/v1/flows", service="shop")
    show(page, "flow")
    nodes = page.evaluate("[...document.querySelectorAll('svg.graph .node')].map(n => n.dataset.id)")
    busiest = sorted(expected["nodes"], key=lambda node: (-node["calls"], node["route"]))[:16]
    assert sorted(nodes) == sorted(node["route"] for node in busiest)
    assert "GET /api/orders/{order_id}" in nodes
    edges = page.evaluate(
        "[...document.querySelectorAll('svg.graph path.edge title')].map(t => t.textContent)"
    )
    top = expected["edges"][0]
    assert f"{top['from']} then {top['to']}: {top['count']:,} times" in edges
    assert len(edges) == len([e for e in expected["edges"] if {e["from"], e["to"]} <= set(nodes)][:40])
    page.click(f'svg.graph .node[data-id="{top["from"]}"]')
    assert top["to"] in page.wait_until("document.getElementById('flow-detail')?.innerText")
    shoot(page, "07-api-flow")


def test_08_recent_events_and_spans(page: Browser) -> None:
    text = show(page, "events")
    assert "Security events" in text and "Spans" in text
    types = set(page.evaluate("[...document.querySelectorAll('tr[data-type]')].map(r => r.dataset.type)"))
    assert types >= set(ATTACKS)
    shoot(page, "08-events")


def test_09_an_endpoint_answering_404_shows_not_available(page: Browser) -> None:
    """As against an older collector: the view says so instead of failing."""
    page.call("Fetch.enable", {"patterns": [{"urlPattern": "*/v1/service-map*"}]})
    try:
        page.click('#nav a[data-view="service-map"]')
        paused = page.wait_for_event("Fetch.requestPaused")
        body = json.dumps({"error": "not found"}).encode()
        page.call(
            "Fetch.fulfillRequest",
            {
                "requestId": paused["params"]["requestId"],
                "responseCode": 404,
                "responseHeaders": [{"name": "content-type", "value": "application/json"}],
                "body": base64.b64encode(body).decode(),
            },
        )
        text = page.wait_until("document.querySelector('main .notice-unavailable')?.innerText")
        assert "Not available" in text and "/v1/service-map" in text
        shoot(page, "09-not-available")
    finally:
        page.call("Fetch.disable")

"""The pages in a real browser: headless Chromium (Debian's ``chromium``, driven by Playwright)
against the app under uvicorn, with every host but 127.0.0.1 unreachable and every request the
pages make recorded: none may go to another host.

Skipped where Chromium is not installed, except in CI (``CI=true``), where ``.ci/run`` installs
it and a missing browser is a failure. ``KG_SCREENSHOTS=docs/img`` also saves the screenshots
the docs show.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import pytest

from api.app import create_app
from kg.serve.runtime import Runtime

from .conftest import Built, serving

pytestmark = pytest.mark.server  # starts Chromium

CHROMIUM = os.environ.get("KG_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
SCREENSHOTS = os.environ.get("KG_SCREENSHOTS")
TIMEOUT_MS = 30_000


def _require_browser() -> Any:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        sync_playwright = None
    missing = (
        "playwright is not installed"
        if sync_playwright is None
        else (f"no Chromium at {CHROMIUM}" if not Path(CHROMIUM).exists() else None)
    )
    if missing and os.environ.get("CI"):
        pytest.fail(f"{missing}: .ci/run installs it for CI")
    if missing:
        pytest.skip(f"{missing} (apt-get install chromium)")
    return sync_playwright


@pytest.fixture(scope="module")
def base_url(corpus_graph: Built) -> Iterator[str]:
    settings = corpus_graph.settings
    with serving(create_app(settings, runtime=Runtime(settings))) as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    sync_playwright = _require_browser()
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",  # CI runs as root
                # every host but this machine is unreachable, as offline
                "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
            ],
        )
        yield browser
        browser.close()


class Visit:
    """A browser context that records every request its pages make."""

    def __init__(self, browser: Any, base_url: str, *, javascript: bool = True) -> None:
        self.base_url = base_url
        self.context = browser.new_context(
            viewport={"width": 1280, "height": 900}, java_script_enabled=javascript
        )
        self.context.set_default_timeout(TIMEOUT_MS)
        self.requests: list[str] = []
        self.context.on("request", lambda request: self.requests.append(request.url))
        self.page = self.context.new_page()

    def open(self, path: str) -> Any:
        self.page.goto(self.base_url + path)
        return self.page

    def elsewhere(self) -> list[str]:
        """Requests to anything but this server (data: URLs are the page's own, and blob: URLs
        name the origin that made them)."""
        here = urlsplit(self.base_url).netloc
        return [
            u
            for u in self.requests
            if not u.startswith("data:") and urlsplit(u.removeprefix("blob:")).netloc != here
        ]

    def screenshot(self, name: str, *, full_page: bool = False) -> None:
        if SCREENSHOTS:
            Path(SCREENSHOTS).mkdir(parents=True, exist_ok=True)
            self.page.screenshot(path=str(Path(SCREENSHOTS) / name), full_page=full_page)


@pytest.fixture
def visit(browser: Any, base_url: str) -> Iterator[Visit]:
    v = Visit(browser, base_url)
    yield v
    try:
        assert v.requests, "the browser made no request"
        assert v.elsewhere() == [], "a page asked another host for something"
    finally:
        v.context.close()


def test_the_ask_page_answers_with_a_cited_answer(visit: Visit) -> None:
    page = visit.open("/?q=" + quote("How large can an SQS message be?"))
    answer = page.locator("#answer")
    assert "256 KB" in answer.inner_text()
    assert page.locator("#answer .badge").inner_text() == "graph"
    assert page.locator("#facts mark").first.inner_text() == "256 KB"
    facts = page.locator("#facts").inner_text()
    assert "aws-solutions-architect-notes.txt › SQS: Distributed Queue System" in facts
    assert "message retention period" in page.locator("#card table.limits").inner_text()
    visit.screenshot("ask.png")
    # the SPARQL that ran opens in the query page, already run
    page.locator("#sparql summary").click()
    page.locator("#sparql a").click()
    page.wait_for_url("**/sparql?query=*")
    assert page.locator("#results tbody tr").count() >= 1
    assert "256 KB" in page.locator("#results").inner_text()


def test_without_javascript_a_question_typed_is_answered(browser: Any, base_url: str) -> None:
    visit = Visit(browser, base_url, javascript=False)
    try:
        page = visit.open("/")
        page.fill("input[name=q]", "How much memory can an AWS Fargate task use?")
        page.press("input[name=q]", "Enter")
        page.wait_for_url("**/?q=*")
        answer = page.locator("#answer").inner_text()
        assert "The notes don't cover that." in answer
        assert "never mention AWS Fargate" in answer
        assert "services" in page.locator("#covered").inner_text()
        visit.screenshot("not-covered.png")
        assert visit.elsewhere() == []
    finally:
        visit.context.close()


def test_a_service_page_shows_its_limits_and_neighbourhood(visit: Visit) -> None:
    page = visit.open("/id/service/amazon-sqs")
    assert page.locator("h1").inner_text().startswith("Amazon SQS")
    limits = page.locator("#limits").inner_text()
    assert "message size" in limits and "256 KB" in limits and "bytes" in limits
    picture = page.locator("svg.neighbourhood")
    assert picture.is_visible() and picture.bounding_box()["height"] > 200
    visit.screenshot("service.png", full_page=True)
    picture.locator("a", has_text="FIFO").click()  # the picture's nodes are links
    page.wait_for_url("**/id/feature/amazon-sqs/fifo")
    assert page.locator("h1").inner_text().startswith("FIFO")


def test_the_api_docs_render_offline(visit: Visit) -> None:
    page = visit.open("/docs")
    page.locator(".opblock").first.wait_for()
    paths = page.locator(".opblock-summary-path").all_inner_texts()
    assert {"/ask", "/search", "/sparql", "/id/{path}"} <= {p.strip() for p in paths}
    visit.screenshot("docs.png")
    page = visit.open("/redoc")
    page.get_by_text("POST /ask", exact=False).first.wait_for(state="attached")
    assert "Answer a question" in page.inner_text("body")


def test_the_query_page_runs_an_example(visit: Visit) -> None:
    page = visit.open("/sparql")
    page.get_by_role("button", name="All services").click()
    page.locator("#results tbody tr").nth(5).wait_for()
    assert "?service" in page.locator("#results thead").inner_text()
    assert "?query=" in page.url  # the link shares the query, and opens with it run
    visit.screenshot("sparql.png")
    service = page.locator("#results a.iri").first
    service.click()  # resource IRIs resolve on this server
    page.wait_for_url("**/id/service/*")
    assert page.locator("h1").is_visible()

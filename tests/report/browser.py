"""Open a page in Debian's Chromium, headless, through Playwright (which never downloads a browser here).

`.ci/run` installs Chromium (`apt-get install chromium`) where it is missing; `make setup`
installs Playwright (the `test` extra). Chromium's background services are turned off: without
those flags it tries to reach Google's servers, which would show up as requests of the page's
browser (and fail here).
"""
from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]


@dataclass
class PageVisit:
    """What a page did while it loaded, and what it shows."""
    requests: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    marks: dict = field(default_factory=dict)          # chart name -> number of .mark elements
    drawn: dict = field(default_factory=dict)          # chart name -> marks with a non-empty box on screen
    land_box: dict | None = None                       # the map outline's box on screen
    mentions: int = 0                                  # grey points: places the articles name
    text: str = ""


def visit(url: str, screenshot: str | None = None, width: int = 1040) -> PageVisit:
    """Load ``url`` and wait for it to settle; count each chart's marks; optionally save a full-page PNG."""
    from playwright.sync_api import sync_playwright

    if not os.path.exists(CHROMIUM):
        raise AssertionError("this test needs Debian's Chromium: apt-get install chromium (.ci/run installs it)")
    seen = PageVisit()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        try:
            page = browser.new_page(viewport={"width": width, "height": 900})
            page.on("request", lambda request: seen.requests.append(request.url))
            page.on("console", lambda message: seen.console_errors.append(message.text)
                    if message.type == "error" else None)
            page.on("pageerror", lambda error: seen.console_errors.append(str(error)))
            page.goto(url, wait_until="networkidle")
            for chart in page.eval_on_selector_all("svg[data-chart]", "nodes => nodes.map(n => n.dataset.chart)"):
                selector = f'svg[data-chart="{chart}"] .mark'
                seen.marks[chart] = page.locator(selector).count()
                seen.drawn[chart] = page.eval_on_selector_all(
                    selector, "nodes => nodes.filter(n => { const b = n.getBoundingClientRect();"
                              " return b.width > 0 && b.height > 0; }).length")
            land = page.locator('svg[data-chart="map"] path.land')
            seen.land_box = land.bounding_box() if land.count() else None
            seen.mentions = page.locator('svg[data-chart="map"] .mention').count()
            seen.text = page.inner_text("body")
            if screenshot:
                page.screenshot(path=screenshot, full_page=True)
        finally:
            browser.close()
    return seen

"""robots.txt (RFC 9309) for article pages, fetched through the poller's ``HttpClient``."""
from __future__ import annotations

import logging
import time
from typing import Callable
from urllib.parse import urlsplit
from urllib.robotparser import RobotFileParser

from pipelines.io.feeds.http import POLICY_REFUSALS, FetchError, HttpClient

log = logging.getLogger("newsflow.feeds")


class RobotsPolicy:
    """robots.txt rules for article pages (feeds were subscribed to, pages are crawled), cached per site."""

    def __init__(self, http: HttpClient, agent: str = "newsflow", ttl: float = 24 * 3600.0,
                 retry_after_failure: float = 600.0, clock: Callable[[], float] = time.time):
        self.http, self.agent, self.ttl, self.retry_after_failure, self.clock = \
            http, agent, ttl, retry_after_failure, clock
        self._rules: dict[str, tuple[RobotFileParser | bool, float]] = {}

    def allowed(self, url: str) -> bool:
        """May ``url`` be fetched? Rules per RFC 9309: a 4xx robots.txt allows all, an unreachable one none."""
        parts = urlsplit(url)
        site = f"{parts.scheme}://{parts.netloc}"
        rules, expires = self._rules.get(site, (True, float("-inf")))
        if expires < self.clock():
            rules, expires = self._fetch(site)
            self._rules[site] = (rules, expires)
        return rules if isinstance(rules, bool) else rules.can_fetch(self.agent, url)

    def _fetch(self, site: str) -> tuple[RobotFileParser | bool, float]:
        now = self.clock()
        try:
            result = self.http.get(site + "/robots.txt", {"Accept": "text/plain"})
        except FetchError as err:
            if err.reason.startswith("http_4"):
                return True, now + self.ttl
            if err.reason in POLICY_REFUSALS:
                # Not the site's answer: the page request is refused by the same policy and counted
                # as such; "disallowed" here would blame the site's robots.txt for our own setting.
                return True, float("-inf")
            log.warning("robots.txt of %s unreachable (%s): no pages from there for now", site, err.reason)
            return False, now + self.retry_after_failure
        parser = RobotFileParser()
        parser.parse(result.body.decode("utf-8", errors="replace").splitlines())
        return parser, now + self.ttl

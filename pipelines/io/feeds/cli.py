"""``newsflow feeds``: flags, OPML, and the launcher that wires the poller to its state, HTTP and sink."""
from __future__ import annotations

import argparse
import contextlib
import logging
import os
import sqlite3
import sys
import threading
from functools import partial
from pathlib import Path
from typing import Sequence
from urllib.parse import urlsplit
from xml.etree import ElementTree

from pipelines.config import add_bootstrap_flag, add_broker_timeout_flag, apply_kafka_security, default_state_dir, \
    positive_count, positive_number
from pipelines.io.errors import BrokerError
from pipelines.io.feeds.http import HttpClient, HttpConfig
from pipelines.io.feeds.poller import FeedPoller, FeedsConfig
from pipelines.io.feeds.robots import RobotsPolicy
from pipelines.io.feeds.sinks import ArticleSink, JsonLinesSink, KafkaSink
from pipelines.io.feeds.state import FeedState, StateLocked
from pipelines.io.kafka_client import make_producer
from pipelines.io.retry import BrokerOutage, BrokerWatch, client_outage, give_up, producer_waits
from pipelines.io.topics import RAW_TOPIC, ensure_topics
from pipelines.signals import StopOnSignals

log = logging.getLogger("newsflow.feeds")


def read_opml(path: str | os.PathLike) -> list[str]:
    """Feed URLs (``xmlUrl`` of every outline, nested or not) from an OPML file."""
    try:
        tree = ElementTree.parse(path)
    except ElementTree.ParseError as exc:
        raise ValueError(f"{path} is not valid OPML: {exc}") from exc
    urls = []
    for outline in tree.iter("outline"):
        url = (outline.get("xmlUrl") or outline.get("xmlurl") or "").strip()
        if url:
            urls.append(url)
    return urls


def build_parser() -> argparse.ArgumentParser:
    """The ``newsflow feeds`` flags."""
    parser = argparse.ArgumentParser(
        prog="newsflow feeds",
        description="Poll RSS/Atom/RDF feeds and publish each new article once to Kafka as raw article JSON.")
    parser.add_argument("urls", nargs="*", metavar="URL", help="feed URLs (http or https)")
    parser.add_argument("--opml", action="append", default=[], metavar="FILE",
                        help="read feed URLs from an OPML file (repeatable)")
    parser.add_argument("--interval", type=positive_number, default=300.0, metavar="S",
                        help="seconds between polls of one feed (default 300)")
    parser.add_argument("--once", action="store_true", help="one pass over the feeds, then exit")
    parser.add_argument("--max-polls", type=positive_count, metavar="N", help="stop after N passes")
    parser.add_argument("--duration", type=positive_number, metavar="S", help="stop after S seconds")
    parser.add_argument("--topic", default=RAW_TOPIC, help=f"topic to publish to (default {RAW_TOPIC})")
    add_bootstrap_flag(parser)
    add_broker_timeout_flag(parser)
    parser.add_argument("--state-dir", metavar="DIR",
                        help="seen-set and feed state (default $NEWSFLOW_HOME/feeds or ~/.newsflow/feeds)")
    parser.add_argument("--allow-private-addresses", action="store_true",
                        help="allow feeds and pages on loopback or private addresses")
    parser.add_argument("--timeout", type=positive_number, default=20.0, metavar="S",
                        help="timeout of one request, body included (default 20)")
    parser.add_argument("--max-bytes", type=positive_count, default=5_000_000, metavar="N",
                        help="size cap of a feed or page (default 5000000)")
    parser.add_argument("--host-delay", type=float, default=1.0, metavar="S",
                        help="least seconds between two requests to one host (default 1)")
    parser.add_argument("--ignore-robots", action="store_true",
                        help="fetch article pages even where robots.txt disallows it")
    parser.add_argument("--max-backoff", type=positive_number, default=6 * 3600.0, metavar="S",
                        help="longest wait before retrying a failing feed (default 21600)")
    parser.add_argument("--reset-backoff", action="store_true",
                        help="forget the stored failures of these feeds and poll them now")
    parser.add_argument("--report-every", type=positive_number, default=60.0, metavar="S",
                        help="seconds between count lines on stderr (default 60)")
    parser.add_argument("--forget-after", type=positive_number, default=90.0, metavar="DAYS",
                        help="forget seen entries absent from every feed this long (default 90)")
    parser.add_argument("--dry-run", action="store_true",
                        help="print articles as JSON lines on stdout instead of publishing")
    parser.add_argument("--log-level", default="INFO", choices=("DEBUG", "INFO", "WARNING", "ERROR"),
                        help="least level of newsflow's own log lines on stderr (default INFO)")
    return parser


def _feed_urls(args) -> tuple[str, ...]:
    urls = list(args.urls)
    for path in args.opml:
        try:
            urls.extend(read_opml(path))
        except OSError as exc:
            raise ValueError(f"cannot read {path}: {exc.strerror or exc}") from exc
    for url in urls:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) feed URL: {url!r}")
    if not urls:
        raise ValueError("no feed URLs: give URL... or --opml FILE")
    return tuple(dict.fromkeys(urls))


def _stop_after_entry(stop: threading.Event, signal_name: str) -> None:
    """The entry being published is finished, then the poller exits."""
    log.info("%s received, stopping", signal_name)
    stop.set()


def _why_none_read(poller: FeedPoller) -> str:
    reasons = [f"{key}={n}" for key, n in sorted(poller.counts.errors.items()) if key.startswith("feed:")]
    if poller.feeds_held_back:
        reasons.append(f"{len(poller.feeds_held_back)} backing off, see --reset-backoff")
    return ", ".join(reasons) or "no feed was due"


def _gone(message: str) -> None:
    """The broker stayed away past --broker-timeout-seconds: one line, exit 69 (what was not
    acknowledged is not in the seen-set, so the next run publishes it)."""
    give_up(message, "newsflow feeds: ")


def main(argv: Sequence[str] | None = None) -> int:
    """``newsflow feeds``: 0 after a clean stop, 1 when a bounded run read no feed, 2 on bad usage or a missing prerequisite."""
    parser = build_parser()
    args = parser.parse_args(argv)
    # The root stays at WARNING (kafka-python is chatty at INFO); our own logger says what we do.
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    log.setLevel(args.log_level)
    try:
        urls = _feed_urls(args)
    except ValueError as exc:
        print(f"newsflow feeds: {exc}", file=sys.stderr)
        return 2
    bootstrap = args.bootstrap_servers
    if not args.dry_run:
        try:
            apply_kafka_security(args)
        except ValueError as exc:
            print(f"newsflow feeds: {exc}", file=sys.stderr)
            return 2
    state_dir = Path(args.state_dir or default_state_dir() / "feeds")
    config = FeedsConfig(feed_urls=urls, interval=args.interval, max_backoff=args.max_backoff,
                         max_polls=1 if args.once else args.max_polls, duration=args.duration,
                         report_every=args.report_every, forget_after_days=args.forget_after)
    http = HttpClient(HttpConfig(timeout=args.timeout, max_bytes=args.max_bytes,
                                 allow_private_addresses=args.allow_private_addresses,
                                 host_delay=max(0.0, args.host_delay)))
    state = FeedState(state_dir)
    try:
        state.open()
    except (StateLocked, OSError, sqlite3.Error) as exc:
        print(f"newsflow feeds: cannot open the state store in {state_dir}: {exc}", file=sys.stderr)
        return 2
    try:
        if args.reset_backoff:
            cleared = state.reset_backoff(urls)
            log.info("back-off cleared for %d feed(s)%s", len(cleared), f": {' '.join(cleared)}" if cleared else "")
        outage = None
        if args.dry_run:
            sink: ArticleSink = JsonLinesSink(sys.stdout)
        else:
            try:
                ensure_topics(bootstrap, [args.topic])
                # A broker that goes away is waited for, up to --broker-timeout-seconds: the sink
                # awaits each send again with back-off, the watch says when it goes and comes back.
                # Only the watch says the lines: an ack slower than 10 s on a loaded machine is no outage.
                outage = BrokerOutage(bootstrap, args.broker_timeout_seconds, log.warning)
                sink = KafkaSink(make_producer(bootstrap, **producer_waits(args.broker_timeout_seconds)),
                                 args.topic, timeout=10.0, outage=client_outage(bootstrap, args.broker_timeout_seconds),
                                 on_gone=_gone)
            except BrokerError as exc:
                print(f"newsflow feeds: {exc}", file=sys.stderr)
                return 2
        stop = threading.Event()
        robots = None if args.ignore_robots else RobotsPolicy(http)
        poller = FeedPoller(config, state, http, sink, stop=stop, robots=robots)
        log.info("polling %d feed(s) every %.0fs, state in %s, publishing to %s", len(urls),
                 config.interval, state_dir, "stdout" if args.dry_run else f"{args.topic} at {bootstrap}")
        try:
            with StopOnSignals(partial(_stop_after_entry, stop)), \
                    (BrokerWatch(outage, on_gone=_gone) if outage else contextlib.nullcontext()):
                counts = poller.run()
        finally:
            sink.close()
        log.info("done: %s", counts.line())
        if (config.max_polls or config.duration) and not stop.is_set() and not poller.feeds_read:
            # A bounded run (cron, scripts) that read no feed at all must not look like a quiet one.
            print(f"newsflow feeds: no feed could be read ({_why_none_read(poller)})", file=sys.stderr)
            return 1
        return 0
    finally:
        state.close()

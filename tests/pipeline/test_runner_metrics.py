"""The embedded runner's metrics stay one consolidated set per stage however many bundles run (issue #13).

Beam's FnApiRunner merged each bundle's metrics into a lazy generator wrapping the previous one,
so an unbounded ``newsflow run`` kept every bundle's MonitoringInfos alive and grew without end.
"""
import gc

import apache_beam as beam
from apache_beam.io.restriction_trackers import OffsetRange, OffsetRestrictionTracker
from apache_beam.metrics import Metrics
from apache_beam.metrics.metric import MetricsFilter
from apache_beam.metrics.monitoring_infos import int64_counter
from apache_beam.runners.portability.fn_api_runner import fn_runner
from apache_beam.transforms.core import RestrictionProvider
from apache_beam.utils.timestamp import Duration

from pipelines.pipeline.launch import bound_runner_metrics

BUNDLES = 1500  # deeper than Python's recursion limit: the lazy merge could not even be read back


class CountDeferrals(beam.DoFn, RestrictionProvider):
    """Claims one offset per bundle and defers the rest, as an idle Kafka reader does."""

    def initial_restriction(self, element):
        return OffsetRange(0, BUNDLES)

    def create_tracker(self, restriction):
        return OffsetRestrictionTracker(restriction)

    def restriction_size(self, element, restriction):
        return restriction.size()

    def split(self, element, restriction):
        yield restriction

    def process(self, element, tracker=beam.DoFn.RestrictionParam()):
        position = tracker.current_restriction().start
        if tracker.try_claim(position):
            Metrics.counter("test", "bundles").inc()
            tracker.defer_remainder(Duration.of(0))
        return iter(())


def test_merge_keeps_one_value_per_metric():
    bound_runner_metrics()
    merged = None
    for _ in range(BUNDLES):
        bundle = [int64_counter("beam:metric:element_count:v1", 1, ptransform="Read")]
        merged = fn_runner.consolidate_monitoring_infos(bundle if merged is None else [*bundle, *merged])
    assert isinstance(merged, list) and len(merged) == 1
    assert merged[0].payload == int64_counter("beam:metric:element_count:v1", BUNDLES).payload


def test_many_bundles_leave_no_per_bundle_metrics_behind():
    bound_runner_metrics()
    pipeline = beam.Pipeline(runner=fn_runner.FnApiRunner())
    _ = pipeline | beam.Create(["partition"]) | beam.ParDo(CountDeferrals())
    result = pipeline.run()
    result.wait_until_finish()
    counters = result.metrics().query(MetricsFilter().with_name("bundles"))["counters"]
    assert sum(c.committed for c in counters) == BUNDLES  # every bundle ran and was counted
    gc.collect()
    assert sum(1 for o in gc.get_objects() if type(o).__name__ == "generator"
               and o.gi_code.co_name == "consolidate") == 0

"""Prometheus metrics, in a registry of the app's own (no global state)."""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily


class _WaitingCollector:
    """Deliveries waiting, read from the database at scrape time: true across every process."""

    def __init__(self, count_waiting: Callable[[], dict[str, int]]):
        self._count = count_waiting

    def collect(self):
        family = GaugeMetricFamily("okrbot_deliveries_waiting",
                                   "Stored deliveries not yet processed, by tracker", labels=["tracker"])
        try:
            counts = self._count()
        except Exception:  # an unreachable database shows as a missing sample, /readyz says why
            counts = {}
        for tracker, count in sorted(counts.items()):
            family.add_metric([tracker], count)
        yield family


class Metrics:
    def __init__(self, count_waiting: Callable[[], dict[str, int]] | None = None):
        self.registry = CollectorRegistry()
        self._deliveries = Counter("okrbot_deliveries", "Webhook deliveries by tracker, event and outcome",
                                   ["tracker", "event", "outcome"], registry=self.registry)
        self._processing = Histogram("okrbot_processing_seconds",
                                     "From receipt to processed, per delivery", ["tracker"],
                                     registry=self.registry,
                                     buckets=(0.01, 0.05, 0.1, 0.5, 1, 5, 30, 60, 300, 1800))
        self._processed = Counter("okrbot_processed", "Deliveries processed, by tracker and result",
                                  ["tracker", "result"], registry=self.registry)
        if count_waiting is not None:
            self.registry.register(_WaitingCollector(count_waiting))

    def delivery(self, tracker: str, event: str, outcome: str) -> None:
        self._deliveries.labels(tracker, event, outcome).inc()

    def processed(self, tracker: str, result: str, seconds: float | None) -> None:
        self._processed.labels(tracker, result).inc()
        if seconds is not None:
            self._processing.labels(tracker).observe(seconds)

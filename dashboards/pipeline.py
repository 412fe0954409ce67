"""The pipeline dashboard (Prometheus): what comes in at the edge, what the workers store,
refuse and detect, how far behind they are, how long their steps take, their memory."""

from __future__ import annotations

from grafana_foundation_sdk.builders.dashboard import Dashboard, Row

from dashboards.panels import PanelBuilder, series, single
from dashboards.sources import PROMETHEUS, promql

__all__ = ["pipeline_dashboard"]

RATE = "$__rate_interval"


def pipeline_dashboard() -> Dashboard:
    return (
        Dashboard("SMATI pipeline")
        .uid("smati-pipeline")
        .tags(["smati", "generated"])
        .time("now-1h", "now")
        .refresh("30s")
        .timezone("utc")
        .with_row(Row("Edge: connectors"))
        .with_panel(_received())
        .with_panel(_refused())
        .with_panel(_mqtt_connected())
        .with_panel(_processes_up())
        .with_row(Row("Workers"))
        .with_panel(_stored())
        .with_panel(_dead_letters())
        .with_panel(_detections())
        .with_panel(_usages())
        .with_row(Row("Lag"))
        .with_panel(_lag())
        .with_panel(_horizon())
        .with_row(Row("Timings"))
        .with_panel(_batch_steps())
        .with_panel(_end_to_end())
        .with_panel(_database_writes())
        .with_panel(_errors())
        .with_row(Row("Resources and API"))
        .with_panel(_memory())
        .with_panel(_api_requests())
        .with_panel(_tenants_silent())
        .with_row(Row("Notifications"))
        .with_panel(_open_alarms())
        .with_panel(_alerts_posted())
        .with_panel(_notifier_passes())
    )


def _received() -> PanelBuilder:
    return series(
        "Uplinks received and published, by source",
        "Messages each connector received, and the raw uplinks Kafka confirmed to it (per second).",
        "reqps",
        PROMETHEUS,
        promql("source:smati_uplinks_received:rate5m", "received {{source}}"),
        promql(
            f"sum by (source) (rate(smati_uplinks_published_total[{RATE}]))", "published {{source}}"
        ),
    )


def _refused() -> PanelBuilder:
    return series(
        "Refused at the edge, by reason",
        "Messages a connector refused: dead-lettered (bad topic, oversized, malformed, "
        "unknown device...) or unauthorized webhook calls (per second).",
        "reqps",
        PROMETHEUS,
        promql(
            f"sum by (source, reason) (rate(smati_uplinks_refused_total[{RATE}]))",
            "{{source}} {{reason}}",
        ),
    )


def _mqtt_connected() -> PanelBuilder:
    return single(
        "MQTT connectors connected",
        "MQTT connectors connected to their broker, out of those Prometheus scrapes.",
        "none",
        PROMETHEUS,
        promql("sum(smati_mqtt_connected)"),
    )


def _processes_up() -> PanelBuilder:
    return single(
        "SMATI processes up",
        "Processes answering Prometheus's scrapes (workers, connectors, API).",
        "none",
        PROMETHEUS,
        promql('sum(up{job=~"smati-.*"})'),
    )


def _stored() -> PanelBuilder:
    return series(
        "Readings decoded and stored",
        "Readings the workers decoded from raw uplinks, and those newly written to the "
        "database (a replay stores nothing new) (per second).",
        "reqps",
        PROMETHEUS,
        promql(f"sum(rate(smati_readings_decoded_total[{RATE}]))", "decoded"),
        promql("sum(job:smati_readings_stored:rate5m)", "stored"),
    )


def _dead_letters() -> PanelBuilder:
    return series(
        "Dead letters by stage and reason",
        "What the workers sent to the dead-letter topic, by stage (decode, detect, sink) "
        "and reject code (per second).",
        "reqps",
        PROMETHEUS,
        promql(
            f"sum by (stage, code) (rate(smati_dead_letters_total[{RATE}]))",
            "{{stage}} {{code}}",
        ),
    )


def _detections() -> PanelBuilder:
    return series(
        "Detections by kind",
        "Detection events the rules emitted: thresholds, resets, gaps, anomalies (per second).",
        "reqps",
        PROMETHEUS,
        promql(f"sum by (kind) (rate(smati_detections_total[{RATE}]))", "{{kind}}"),
    )


def _usages() -> PanelBuilder:
    return series(
        "Usages by transmission status, and open gaps",
        "Usages of all workers' partitions by status (green, orange: late, red: cut, "
        "violet: never heard), and those with a gap open.",
        "none",
        PROMETHEUS,
        promql("sum by (status) (smati_usages)", "{{status}}"),
        promql("sum(smati_open_gaps)", "open gaps"),
    )


def _lag() -> PanelBuilder:
    return series(
        "Consumer lag per partition",
        "Raw uplinks published and not yet committed by the workers, per partition "
        "(end minus committed offset).",
        "none",
        PROMETHEUS,
        promql(
            "sum by (topic, partition) (smati_consumer_lag_messages)", "{{topic}}/{{partition}}"
        ),
    )


def _horizon() -> PanelBuilder:
    return series(
        "Processing horizon lag",
        "Wall clock minus the time before which every published uplink is checked, per "
        "worker: silence is judged at the horizon.",
        "s",
        PROMETHEUS,
        promql("max by (instance) (smati_processing_horizon_lag_seconds)", "{{instance}}"),
    )


def _batch_steps() -> PanelBuilder:
    return series(
        "Batch steps, 95th percentile",
        "Time a batch spends checking (event loop busy), committing (database and Kafka), "
        "and waiting for the previous commit.",
        "s",
        PROMETHEUS,
        promql("step:smati_batch_seconds:p95_5m", "{{step}}"),
    )


def _end_to_end() -> PanelBuilder:
    return series(
        "End-to-end latency",
        "From a raw uplink's Kafka timestamp to its readings stored: median and 95th percentile.",
        "s",
        PROMETHEUS,
        promql(
            "histogram_quantile(0.5, sum by (le) "
            f"(rate(smati_end_to_end_latency_seconds_bucket[{RATE}])))",
            "p50",
        ),
        promql("max(job:smati_end_to_end_latency_seconds:p95_5m)", "p95"),
    )


def _database_writes() -> PanelBuilder:
    return series(
        "Database writes by table, 95th percentile",
        "Time of one write of a batch's rows or states, per table.",
        "s",
        PROMETHEUS,
        promql("table:smati_database_write_seconds:p95_5m", "{{table}}"),
    )


def _errors() -> PanelBuilder:
    return series(
        "Database and Kafka errors",
        "Database writes that failed (per table) and records Kafka did not confirm (per "
        "topic), per second: anything above 0 for long raises an alert.",
        "reqps",
        PROMETHEUS,
        promql(
            f"sum by (table) (rate(smati_database_write_errors_total[{RATE}]))",
            "database {{table}}",
        ),
        promql(
            f"sum by (topic) (rate(smati_kafka_produce_errors_total[{RATE}]))",
            "kafka {{topic}}",
        ),
    )


def _memory() -> PanelBuilder:
    return series(
        "Memory per process",
        "Resident memory of each worker, connector and API process.",
        "bytes",
        PROMETHEUS,
        promql('process_resident_memory_bytes{job=~"smati-.*"}', "{{job}} {{instance}}"),
    )


def _api_requests() -> PanelBuilder:
    return series(
        "API requests by route and status",
        "Requests the HTTP API answered (per second).",
        "reqps",
        PROMETHEUS,
        promql(
            f"sum by (route, status) (rate(smati_api_requests_total[{RATE}]))",
            "{{route}} {{status}}",
        ),
    )


def _tenants_silent() -> PanelBuilder:
    return series(
        "Silence per tenant",
        "Time since an uplink of each tenant was last published: an alert past an hour.",
        "s",
        PROMETHEUS,
        promql("tenant:smati_tenant_silence_seconds:min", "{{tenant}}"),
    )


def _open_alarms() -> PanelBuilder:
    return series(
        "Open alarms, by status and severity",
        "Alarms not cleared, unacknowledged or acknowledged, by severity (every tenant; the "
        "buildings dashboard lists them per tenant and entity).",
        "short",
        PROMETHEUS,
        promql("sum by (status, severity) (smati_alarms_open)", "{{status}} {{severity}}"),
    )


def _alerts_posted() -> PanelBuilder:
    return series(
        "Alerts posted to Alertmanager, by state",
        "Alarms the notifier posted as firing or resolved (per second); Alertmanager routes, "
        "groups and sends them.",
        "reqps",
        PROMETHEUS,
        promql(f"sum by (state) (rate(smati_notifications_alerts_total[{RATE}]))", "{{state}}"),
    )


def _notifier_passes() -> PanelBuilder:
    return series(
        "Notifier passes, failures and escalations",
        "The notifier's passes over the open alarms, those that failed (Alertmanager or the "
        "database unreachable), and escalation levels reached (per second).",
        "reqps",
        PROMETHEUS,
        promql(f"sum(rate(smati_notifications_passes_total[{RATE}]))", "passes"),
        promql(f"sum(rate(smati_notifications_failures_total[{RATE}]))", "failures"),
        promql(f"sum(rate(smati_notifications_escalations_total[{RATE}]))", "escalations"),
    )

"""Configuration of every SMATI process, parsed once from `SMATI_*` environment variables.

Declared here, with no I/O at import, so that connectors, stream and storage share one
definition; the CLI builds it once (flags override the environment) and passes it on.
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, ValidationError
from pydantic_core import ErrorDetails
from pydantic_settings import BaseSettings, SettingsConfigDict

from models.anomaly import AnomalyConfig
from models.errors import SmatiError
from models.transmission import TransmissionPolicy


class SettingsError(SmatiError, ValueError):
    """A setting (an `SMATI_*` variable or its flag) that does not parse."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SMATI_", extra="ignore")

    kafka_bootstrap: str = Field(default="127.0.0.1:9092", description="Kafka bootstrap servers")
    database_url: SecretStr = Field(
        default=SecretStr("postgresql://postgres@127.0.0.1:5432/smati"),
        description="PostgreSQL/TimescaleDB connection URL (never logged)",
    )
    mqtt_url: str = Field(default="mqtt://127.0.0.1:1883", description="MQTT broker URL")
    mqtt_topics: list[str] = Field(
        default=["smati/devices/{device_id}/up"],
        description="MQTT topic templates; {device_id} marks the level holding the device id",
    )
    max_payload_bytes: int = Field(
        default=256 * 1024, gt=0, description="larger uplinks are dead-lettered by connectors"
    )
    mqtt_client_id: str = Field(default="smati-mqtt-connector", description="MQTT session id")
    mqtt_tenant_passwords: dict[str, SecretStr] = Field(
        default={},
        description="tenant -> password of its MQTT user, for `smati mqtt credentials` "
        "(never logged)",
    )
    topic_prefix: str = Field(default="smati", description="prefix of every Kafka topic")
    topic_partitions: int = Field(default=4, ge=1, description="partitions of new topics")
    app_id: str = Field(default="smati-stream", description="Faust app id = consumer group")
    state_dir: Path = Field(
        default=Path(tempfile.gettempdir()) / "smati-state",
        description="where a worker keeps local state (Faust's data folder, one per app id)",
    )
    web_host: str = Field(
        default="127.0.0.1", description="bind address of the worker's and MQTT connector's web"
    )
    web_port: int = Field(default=6066, ge=0, description="worker web server port (/metrics)")
    mqtt_web_port: int = Field(
        default=6067, ge=0, description="MQTT connector's /health and /metrics port, 0: a free one"
    )
    broker_session_timeout_s: float = Field(default=10.0, gt=0)
    sink_batch_size: int = Field(default=2000, ge=1, description="rows per database write")
    sink_batch_seconds: float = Field(default=0.5, gt=0, description="max wait to fill a batch")
    registry_refresh_s: float = Field(default=30.0, gt=0, description="registry reload period")
    max_future_s: float = Field(default=300.0, ge=0, description="tolerated clock skew ahead")
    max_age_days: float = Field(default=400.0, gt=0, description="older readings are refused")
    status_orange_after: float = Field(
        default=1.5, gt=0, description="a usage silent this many periods is orange (perturbed)"
    )
    status_red_after: float = Field(
        default=5.0, gt=0, description="a usage silent this many periods is red (cut)"
    )
    gap_after: float = Field(default=2.5, gt=1, description="a silence this many periods is a gap")
    transmission_check_s: float = Field(
        default=2.0, gt=0, description="how often silent usages are looked at"
    )
    anomaly_threshold: float = Field(
        default=0.5, ge=0, le=1, description="anomaly score at which a reading is an anomaly"
    )
    anomaly_warmup_readings: int = Field(
        default=100, ge=1, description="a usage's first readings are learnt, not scored"
    )
    trusted_decoders: list[str] = Field(
        default=[],
        description="sources (tts, chirpstack) whose decoded payload is used instead of a codec",
    )
    codec_time_limit_s: float = Field(
        default=0.5, gt=0, description="time limit of one call into a JavaScript codec"
    )
    codec_memory_limit_mb: int = Field(
        default=64, ge=8, description="memory limit of a JavaScript codec's context"
    )
    webhook_host: str = Field(default="127.0.0.1", description="webhook server bind address")
    webhook_port: int = Field(default=8090, ge=0, description="webhook server port")
    webhook_secrets: dict[str, SecretStr] = Field(
        default={},
        description="tenant -> secret that webhook callers send (never logged)",
    )
    api_host: str = Field(
        default="127.0.0.1", description="bind address of the HTTP API (`smati serve`)"
    )
    api_port: int = Field(default=8080, ge=0, le=65535, description="HTTP API port")
    log_level: str = Field(default="info")
    log_format: Literal["auto", "json", "console"] = Field(
        default="auto", description="auto: console on a terminal, JSON lines otherwise"
    )
    log_throttle_s: float = Field(
        default=10.0, ge=0, description="a throttled log line repeats at most this often"
    )
    database_wait_s: float = Field(
        default=300.0, ge=0, description="how long a worker waits for the database at start"
    )
    alertmanager_url: str = Field(
        default="http://127.0.0.1:9093", description="Alertmanager the notifier posts alarms to"
    )
    notifier_resend_s: float = Field(
        default=60.0, gt=0, description="a firing alarm is posted again this often"
    )
    notifier_tick_s: float = Field(
        default=5.0, gt=0, description="how often the notifier looks at every open alarm"
    )

    @classmethod
    def load(cls, overrides: Mapping[str, object]) -> Settings:
        """The settings from the environment and `overrides`; a bad value is a SettingsError."""
        try:
            return cls.model_validate(dict(overrides))
        except ValidationError as error:
            raise SettingsError("; ".join(map(_describe, error.errors()))) from None

    def but(self, **changes: object) -> Settings:
        """A copy with `changes`, validated like the original (unlike `model_copy`)."""
        return type(self).model_validate({**self.model_dump(), **changes})

    def topic(self, name: str) -> str:
        """The Kafka topic `name` (raw, readings, events, dead-letter) under the prefix."""
        return f"{self.topic_prefix}.{name}"

    @property
    def transmission_policy(self) -> TransmissionPolicy:
        return TransmissionPolicy(
            orange_after=self.status_orange_after,
            red_after=self.status_red_after,
            gap_after=self.gap_after,
        )

    @property
    def anomaly_config(self) -> AnomalyConfig:
        return AnomalyConfig(
            threshold=self.anomaly_threshold,
            warmup_readings=self.anomaly_warmup_readings,
        )

    @property
    def max_future(self) -> timedelta:
        return timedelta(seconds=self.max_future_s)

    @property
    def max_age(self) -> timedelta:
        return timedelta(days=self.max_age_days)


def _describe(detail: ErrorDetails) -> str:
    """One bad setting, named as its environment variable (a flag is checked the same way).
    A JSON variable that does not parse comes without a location, its name in the text."""
    message = detail["msg"].removeprefix("Value error, ")
    if not detail["loc"]:
        return f"a setting does not parse: {message}"
    name = "_".join(map(str, detail["loc"])).upper()
    return f"SMATI_{name}: {message} (got {detail['input']!r})"

"""Services run on loopback for the tests, the demo and the benchmarks.

Apache Kafka (or Tansu, the zero-Java fallback), PostgreSQL and Mosquitto, started by the
project itself on free ports, with their data in temp dirs. Every service is always stopped:
on normal exit, Ctrl-C, a failed test, SIGTERM to a :class:`ServiceStack` process, and (via
``PR_SET_PDEATHSIG``, Linux) when the Python process dies, even by SIGKILL.
"""

from services._process import (
    Service,
    ServiceError,
    ServiceNotInstalledError,
    ServiceStartError,
    spawn,
    stop_process,
)
from services.kafka import KAFKA_VERSION, ApacheKafka, ensure_kafka_jars
from services.mqtt import MqttBroker
from services.paths import cache_dir
from services.ports import free_port
from services.postgres import PostgresServer
from services.prometheus import PrometheusServer
from services.stack import BrokerChoice, ServiceStack
from services.tansu import TansuBroker
from services.timescale import PgliteTimescale, ensure_pglite
from services.waiting import WaitTimeout, wait_until

__all__ = [
    "KAFKA_VERSION",
    "ApacheKafka",
    "BrokerChoice",
    "MqttBroker",
    "PgliteTimescale",
    "PostgresServer",
    "PrometheusServer",
    "Service",
    "ServiceError",
    "ServiceNotInstalledError",
    "ServiceStack",
    "ServiceStartError",
    "TansuBroker",
    "WaitTimeout",
    "cache_dir",
    "ensure_kafka_jars",
    "ensure_pglite",
    "free_port",
    "spawn",
    "stop_process",
    "wait_until",
]

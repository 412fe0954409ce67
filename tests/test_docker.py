"""docker/: the compose file against the Compose specification's JSON schema, what it
mounts and runs, and the Dockerfile through hadolint. No Docker engine runs here."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tomllib
from importlib.metadata import distribution
from pathlib import Path, PurePosixPath
from typing import Any

import jsonschema
import pytest
import yaml
from deployment import help_fails, smati_variables, unknown_variables

from models.settings import Settings
from services.mqtt import MOSQUITTO_CONF

DOCKER = Path(__file__).parent.parent / "docker"
COMPOSE_TEXT = (DOCKER / "compose.yaml").read_text()
COMPOSE: dict[str, Any] = yaml.safe_load(COMPOSE_TEXT)


def _smati_services() -> dict[str, dict[str, Any]]:
    return {
        name: service
        for name, service in COMPOSE["services"].items()
        if service.get("image") == COMPOSE["x-smati"]["image"]
    }


def test_compose_file_follows_the_compose_specification() -> None:
    vendored = next(
        p for p in distribution("check-jsonschema").files or [] if p.name == "compose-spec.json"
    )
    schema = json.loads(vendored.read_text())
    validator = jsonschema.validators.validator_for(schema)(schema)
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(COMPOSE)]
    assert errors == []


def test_every_file_mounted_exists() -> None:
    sources = [
        volume.split(":")[0]
        for service in COMPOSE["services"].values()
        for volume in service.get("volumes", [])
        if volume.startswith(".")
    ]
    assert sources, "no bind mount found: the test would prove nothing"
    assert [s for s in sources if not (DOCKER / s).exists()] == []


def test_mosquitto_gets_the_settings_the_tests_broker_uses() -> None:
    mounts = COMPOSE["services"]["mosquitto"]["volumes"]
    included = [m for m in mounts if m.split(":")[1].startswith("/mosquitto/config/conf.d/")]
    assert [(DOCKER / m.split(":")[0]).resolve() for m in included] == [MOSQUITTO_CONF]
    assert (
        "include_dir /mosquitto/config/conf.d" in (DOCKER / "mosquitto/mosquitto.conf").read_text()
    )


@pytest.mark.parametrize("name", sorted(_smati_services()))
def test_every_smati_command_exists(name: str) -> None:
    assert help_fails(_smati_services()[name]["command"]) is None


def test_every_smati_variable_is_a_setting() -> None:
    used = smati_variables(COMPOSE_TEXT)
    assert "SMATI_DATABASE_URL" in used
    assert unknown_variables(used) == set()


def test_prometheus_scrapes_the_ports_the_processes_serve() -> None:
    settings = Settings()
    notifier = COMPOSE["services"]["notifier"]["command"]
    serving = {
        "worker": settings.web_port,
        "connector-mqtt": settings.mqtt_web_port,
        "webhooks": settings.webhook_port,
        "notifier": int(notifier[notifier.index("--metrics-port") + 1]),
    }
    config = yaml.safe_load((DOCKER / "prometheus/prometheus.yml").read_text())
    scraped: dict[str, int] = {}
    for job in config["scrape_configs"]:
        for static in job.get("static_configs", []):
            for target in static["targets"]:
                host, port = target.split(":")
                scraped[host] = int(port)
        for dns in job.get("dns_sd_configs", []):
            scraped.update(dict.fromkeys(dns["names"], dns["port"]))
    assert scraped == serving


def test_the_dockerfile_passes_hadolint() -> None:
    result = subprocess.run(
        [
            str(Path(sys.executable).with_name("hadolint")),
            "--config",
            str(DOCKER / "hadolint.yaml"),
            str(DOCKER / "Dockerfile"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_image_holds_every_package_the_project_installs() -> None:
    pyproject = tomllib.loads((DOCKER.parent / "pyproject.toml").read_text())
    packages = {
        p.rstrip("*") for p in pyproject["tool"]["setuptools"]["packages"]["find"]["include"]
    }
    copied = set(re.findall(r"^COPY (\w+)/ \1/$", (DOCKER / "Dockerfile").read_text(), re.M))
    assert copied == packages


def test_alertmanager_reads_the_configuration_the_job_writes() -> None:
    services = COMPOSE["services"]
    command = services["alerting-config"]["command"]
    written = PurePosixPath(command[command.index("--out") + 1])
    (read,) = [a for a in services["alertmanager"]["command"] if a.startswith("--config.file=")]
    read_path = PurePosixPath(read.split("=", 1)[1])
    writer_mounts = dict(v.split(":")[:2] for v in services["alerting-config"]["volumes"])
    reader_mounts = {v.split(":")[1]: v.split(":")[0] for v in services["alertmanager"]["volumes"]}
    assert writer_mounts[reader_mounts[str(read_path.parent)]] == str(written.parent)
    assert written.name == read_path.name

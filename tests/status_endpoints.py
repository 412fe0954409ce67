"""GET /health and /metrics of a SMATI process, as an orchestrator and Prometheus do."""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from services.processes import RoleProcess

_SERVING = "serving /health and /metrics on"


def status_url(process: RoleProcess) -> str:
    """The URL of a connector's /health and /metrics, once its log tells it."""
    process.wait_for_line(_SERVING)
    found = re.search(rf"{_SERVING} (http://[^\s\"]+)", process.log())  # a JSON line
    assert found is not None
    return found.group(1)


def health(url: str) -> tuple[int, dict[str, Any]]:
    """GET /health: (status, JSON answer)."""
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=10) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


def metrics(url: str, prefix: str) -> dict[str, float]:
    """GET /metrics: the samples named `prefix...`, keyed `name{label=value}` (labels sorted)."""
    with urllib.request.urlopen(f"{url}/metrics", timeout=10) as response:
        text = response.read().decode()
    return {
        sample.name
        + "".join(f"{{{k}={v}}}" for k, v in sorted(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name.startswith(prefix) and not sample.name.endswith("_created")
    }

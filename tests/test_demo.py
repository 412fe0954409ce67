"""Smoke test of `smati demo` on Tansu, the broker of machines without Java."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

pytestmark = pytest.mark.integration


def test_demo_on_tansu_stores_detects_and_dead_letters() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SMATI_")}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "smati.cli",
            "demo",
            "--broker",
            "tansu",
            "--duration",
            "5",
            "--history-minutes",
            "60",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=420,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    out = result.stdout
    assert "services up (tansu Kafka)" in out
    published = int(re.search(r"MQTT messages published: (\d+)", out).group(1))  # type: ignore[union-attr]
    stored = int(re.search(r"readings stored: (\d+)", out).group(1))  # type: ignore[union-attr]
    # An hour of 5 s steps, published at once: 720 steps of 6 messages holding 9 values,
    # more than Mosquitto queues for one client by default. Every value must be stored.
    assert published >= 720 * 6
    assert stored >= 720 * 9
    kinds = ("decreasing_index", "meter_reset", "negative_consumption", "threshold_high", "anomaly")
    for kind in kinds:
        assert re.search(rf"^\s+{kind}\s+[1-9]", out, re.M), kind
    for alarm_type in ("threshold", "negative_consumption", "anomaly"):  # raised, cleared
        assert re.search(rf"^ +{alarm_type} +[1-9]\d* +[1-9]", out, re.M), alarm_type
    for code in ("malformed_payload", "unknown_device", "invalid_value", "duplicate"):
        assert re.search(rf"^\s+{code}\s+[1-9]", out, re.M), code
    mails = re.search(r"notifications through Alertmanager .*: (\d+) e-mails", out)
    assert mails is not None and int(mails.group(1)) >= 1, out[-2000:]
    _assert_acknowledgement_stopped_reminders(out)


def _assert_acknowledgement_stopped_reminders(out: str) -> None:
    """The silent meter's alarm, acknowledged after a reminder, got none until its return
    cleared it, which was said once."""
    counts = re.search(
        r"notifications of the transmission alarm (\w+) of hotel-paris\.water: (\d+) before its "
        r"acknowledgement, (\d+) while acknowledged, (\d+) resolved",
        out,
    )
    assert counts is not None, out[-3000:]
    before, while_acknowledged, resolved = (int(n) for n in counts.groups()[1:])
    assert before >= 2, out[-3000:]  # the first notification and a reminder
    listed = out[counts.end() :].splitlines()[1 : 1 + before + resolved]
    said = [line.split()[1] for line in listed]
    assert said[0] == "first" and "reminder" in said[:before], listed
    assert said[before:] == ["resolved"], listed
    assert while_acknowledged == 0, out[-3000:]
    assert resolved == 1, out[-3000:]
    transitions = re.findall(r"^  \S+ \S+Z transmission +(\w+)", out, re.M)
    acknowledged = transitions.index("acknowledged")
    assert "cleared" in transitions[acknowledged:], transitions

"""A synthetic fleet: many usages, one thermometer each, sending raw uplinks to Kafka.

For the pipeline benchmark and the restart and registry tests, which need many usages
and exact control of who transmits when; uplinks go straight to the raw topic, as a
connector would put them, so what is measured is the stream.
"""

from __future__ import annotations

import json
from datetime import datetime

from models.registry import Registry
from models.uplink import RawUplink

TENANT = "fleet"
ENTITY = "fleet-site"


def usage_id(n: int) -> str:
    return f"fleet.t{n:06d}"


def device_id(n: int) -> str:
    return f"fleet-dev-{n:06d}"


def fleet_registry(usages: int, period_s: float) -> Registry:
    """One tenant, one building, `usages` temperature usages each fed by its own device."""
    return Registry.model_validate(
        {
            "tenants": [
                {
                    "id": TENANT,
                    "entities": [
                        {
                            "id": ENTITY,
                            "name": "Synthetic site",
                            "equipment": [
                                {
                                    "id": f"{ENTITY}.sensors",
                                    "usages": [
                                        {
                                            "id": usage_id(n),
                                            "type": "instant",
                                            "unit": "°C",
                                            "period_s": period_s,
                                            "min": -50,
                                            "max": 100,
                                        }
                                        for n in range(usages)
                                    ],
                                }
                            ],
                        }
                    ],
                }
            ],
            "devices": [
                {"id": device_id(n), "tenant": TENANT, "channels": {"temperature": usage_id(n)}}
                for n in range(usages)
            ],
        }
    )


def payload(at: datetime, value: float) -> bytes:
    """The generic JSON payload of a fleet device reporting `value` at `at`."""
    return json.dumps({"time": at.isoformat(), "values": {"temperature": value}}).encode()


def raw_uplink(n: int, at: datetime, value: float) -> bytes:
    """The raw-topic record of device `n` reporting `value` at `at`."""
    return RawUplink(
        source="fleet", device_id=device_id(n), received_at=at, payload=payload(at, value)
    ).to_json()

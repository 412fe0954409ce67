"""Alertmanager's configuration from the registry: a pure function of the tenants'
`notifications:` sections (`smati alerting config` writes it as YAML).

Tenants never share anything: each has a route of its own matching its `tenant` label,
every route below it matches that label again, and its receivers, mute intervals and
inhibition rules are named or matched by tenant. Alarms of a tenant without a
`notifications:` section reach the root's receiver, which sends nothing.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from models.alerting.messages import TEMPLATES, Templates
from models.alerting.routing import (
    Escalation,
    MuteInterval,
    Notifications,
    Receiver,
    Route,
    TimeRange,
)

if TYPE_CHECKING:  # models.registry imports the routing section of this package
    from models.registry import Registry

__all__ = ["ESCALATION_LABEL", "NOBODY", "alertmanager_config", "matcher"]

NOBODY = "smati-nobody"
"""The root route's receiver: it has no integration, so what reaches it is dropped."""
ESCALATION_LABEL = "escalation"
"""Set to the level ("1", "2", ...) on the copies of an alarm the notifier escalates."""

Config = dict[str, Any]


def alertmanager_config(registry: Registry) -> Config:
    """Alertmanager's whole configuration for every tenant with a `notifications:` section."""
    tenants = [(t.id, t.notifications) for t in registry.tenants if t.notifications is not None]
    config: Config = {
        "route": {
            "receiver": NOBODY,
            "group_by": ["tenant", "alarm_id"],
            "routes": [_tenant_route(tenant, n) for tenant, n in tenants],
        },
        "receivers": [{"name": NOBODY}]
        + [_receiver(tenant, r) for tenant, n in tenants for r in n.receivers],
        "inhibit_rules": [rule for tenant, n in tenants for rule in _inhibit_rules(tenant, n)],
    }
    intervals = [_time_interval(tenant, i) for tenant, n in tenants for i in n.mute_intervals]
    if intervals:
        config["time_intervals"] = intervals
    return config


def matcher(label: str, values: Iterable[str] | str, *, negate: bool = False) -> str:
    """An Alertmanager matcher: equality for one value, an anchored alternative for several."""
    if isinstance(values, str):
        return f"{label}{'!=' if negate else '='}{json.dumps(values)}"
    pattern = "|".join(re.escape(value) for value in values)
    return f"{label}{'!~' if negate else '=~'}{json.dumps(pattern)}"


def _scoped(tenant: str, name: str) -> str:
    """Receivers and intervals are global in Alertmanager: each tenant's carry its id."""
    return f"{tenant}/{name}"


def _duration(seconds: float) -> str:
    return f"{round(seconds * 1000)}ms"


def _tenant_route(tenant: str, notifications: Notifications) -> Config:
    own = matcher("tenant", tenant)
    escalations = [
        _escalation_route(tenant, own, level, step)
        for level, step in enumerate(notifications.escalation, start=1)
    ]
    return {
        "receiver": _scoped(tenant, notifications.default_receiver),
        "matchers": [own],
        "group_by": ["tenant", *notifications.group_by],
        "group_wait": _duration(notifications.group_wait_s),
        "group_interval": _duration(notifications.group_interval_s),
        "repeat_interval": _duration(notifications.repeat_interval_s),
        "routes": escalations + [_route(tenant, own, route) for route in notifications.routes],
    }


def _escalation_route(tenant: str, own: str, level: int, step: Escalation) -> Config:
    route: Config = {
        "receiver": _scoped(tenant, step.receiver),
        "matchers": [own, matcher(ESCALATION_LABEL, str(level))],
    }
    return _muted(route, tenant, step.mute)


def _route(tenant: str, own: str, route: Route) -> Config:
    matchers = [own, matcher(ESCALATION_LABEL, "")]
    for label, values in (
        ("entity", route.entities),
        ("severity", route.severities),
        ("alarm_type", route.alarm_types),
    ):
        if values:
            matchers.append(matcher(label, values))
    result: Config = {"receiver": _scoped(tenant, route.receiver), "matchers": matchers}
    if route.continue_matching:
        result["continue"] = True
    return _muted(result, tenant, route.mute)


def _muted(route: Config, tenant: str, mute: tuple[str, ...]) -> Config:
    if mute:
        route["mute_time_intervals"] = [_scoped(tenant, name) for name in mute]
    return route


def _receiver(tenant: str, receiver: Receiver) -> Config:
    texts = TEMPLATES[receiver.language]
    result: Config = {"name": _scoped(tenant, receiver.name)}
    if receiver.email is not None:
        result["email_configs"] = [
            {
                "to": ", ".join(receiver.email.to),
                "from": receiver.email.sender,
                "smarthost": receiver.email.smarthost,
                "require_tls": receiver.email.require_tls,
                "send_resolved": receiver.send_resolved,
                "headers": {"Subject": texts.title},
                "text": texts.text,
                "html": texts.html,
            }
        ]
    if receiver.teams is not None:
        result["msteamsv2_configs"] = [_teams(receiver, texts)]
    if receiver.webhook is not None:
        result["webhook_configs"] = [
            {"url": receiver.webhook.url, "send_resolved": receiver.send_resolved}
        ]
    return result


def _teams(receiver: Receiver, texts: Templates) -> Config:
    assert receiver.teams is not None
    return {
        "webhook_url": receiver.teams.url,
        "send_resolved": receiver.send_resolved,
        "title": texts.title,
        "text": texts.text,
    }


def _inhibit_rules(tenant: str, notifications: Notifications) -> list[Config]:
    """A device whose transmission is cut (an alarm of an inhibiting type and severity)
    holds its other alarms; alarms of no device never inhibit one another."""
    types = notifications.inhibiting_alarm_types
    if not types:
        return []
    own, has_device = matcher("tenant", tenant), 'device=~".+"'
    return [
        {
            "source_matchers": [
                own,
                matcher("alarm_type", types),
                matcher("severity", notifications.inhibiting_severities),
                has_device,
            ],
            "target_matchers": [own, matcher("alarm_type", types, negate=True), has_device],
            "equal": ["tenant", "device"],
        }
    ]


def _time_interval(tenant: str, interval: MuteInterval) -> Config:
    spec: Config = {"location": interval.timezone.key}
    if interval.times:
        spec["times"] = [span for time in interval.times for span in _day_spans(time)]
    for field in ("weekdays", "days_of_month", "months", "years"):
        values = getattr(interval, field)
        if values:
            spec[field] = [str(value) for value in values]
    return {"name": _scoped(tenant, interval.name), "time_intervals": [spec]}


def _day_spans(time: TimeRange) -> list[dict[str, str]]:
    """Alertmanager's ranges stay within a day: a night is split at midnight."""
    if time.start < time.end:
        return [{"start_time": time.start, "end_time": time.end}]
    spans = [{"start_time": time.start, "end_time": "24:00"}]
    if time.end != "00:00":
        spans.append({"start_time": "00:00", "end_time": time.end})
    return spans

"""Notifications of alarms through Prometheus Alertmanager: the registry's routing section,
the Alertmanager configuration made from it, the messages, and what the notifier sends."""

from models.alerting.config import ESCALATION_LABEL, alertmanager_config
from models.alerting.plan import Alarm, Alert, Delivery, Plan, Timing, alarm_labels, plan
from models.alerting.routing import Language, Notifications

__all__ = [
    "ESCALATION_LABEL",
    "Alarm",
    "Alert",
    "Delivery",
    "Language",
    "Notifications",
    "Plan",
    "Timing",
    "alarm_labels",
    "alertmanager_config",
    "plan",
]

"""Notifications of alarms through Prometheus Alertmanager: the registry's routing section,
the Alertmanager configuration made from it, the messages, and what the notifier sends."""

from models.alerting.config import ESCALATION_LABEL, alertmanager_config
from models.alerting.plan import Alert, Delivery, Plan, Stored, Timing, alarm_labels, plan
from models.alerting.routing import Language, Notifications

__all__ = [
    "ESCALATION_LABEL",
    "Alert",
    "Delivery",
    "Language",
    "Notifications",
    "Plan",
    "Stored",
    "Timing",
    "alarm_labels",
    "alertmanager_config",
    "plan",
]

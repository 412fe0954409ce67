"""Alarms (ThingsBoard's model) raised from detections by rules: pure, no I/O.

- `model`: an alarm, its severities and transitions, deterministic ids;
- `rules`: alarm rules (registry `alarm_rules:`) and the built-in defaults;
- `engine`: the rules applied to a usage's detections, step by step;
- `flapping`: Nagios's flap detection;
- `state`: what a usage's rules remember, saved with the usage's state.
"""

from models.alarm_status import AlarmSeverity
from models.alarms.engine import Step, observe_alarms, signal_of
from models.alarms.model import Alarm, AlarmChange, Subject, Transition, alarm_id
from models.alarms.rules import DEFAULT_ALARM_RULES, AlarmRule, ClearCondition, CreateCondition
from models.alarms.state import UsageAlarms

__all__ = [
    "DEFAULT_ALARM_RULES",
    "Alarm",
    "AlarmChange",
    "AlarmRule",
    "AlarmSeverity",
    "ClearCondition",
    "CreateCondition",
    "Step",
    "Subject",
    "Transition",
    "UsageAlarms",
    "alarm_id",
    "observe_alarms",
    "signal_of",
]

"""What a person reads of an alarm, in French and English.

The notifier writes each alarm's one-line summary in both languages as annotations
(`summary_fr`, `summary_en`); the Alertmanager templates of each receiver's language
(Go templates, inline in the generated configuration) put them into the e-mail, the
Teams card's title and text.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from models.alerting.routing import Language

__all__ = ["TEMPLATES", "AlarmText", "Templates", "summaries"]


@dataclass(frozen=True)
class AlarmText:
    """The parts of an alarm its summary names."""

    alarm_type: str
    severity: str
    usage: str
    equipment: str
    entity: str
    start: datetime
    occurrences: int


_SEVERITY = {
    Language.FR: {
        "critical": "critique",
        "major": "majeure",
        "minor": "mineure",
        "warning": "avertissement",
    },
    Language.EN: {"critical": "critical", "major": "major", "minor": "minor", "warning": "warning"},
}
_SUMMARY = {
    Language.FR: (
        "Alarme {severity} {alarm_type} : usage {usage}, équipement {equipment}, "
        "bâtiment {entity}, depuis le {start} ({occurrences} occurrence(s))"
    ),
    Language.EN: (
        "{severity} alarm {alarm_type}: usage {usage}, equipment {equipment}, "
        "building {entity}, since {start} ({occurrences} occurrence(s))"
    ),
}


def summaries(text: AlarmText, zone: ZoneInfo) -> dict[str, str]:
    """`summary_fr` and `summary_en`, the start time in the building's zone, zone shown."""
    start = text.start.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z")
    return {
        f"summary_{language.value}": _SUMMARY[language].format(
            severity=_SEVERITY[language].get(text.severity, text.severity),
            alarm_type=text.alarm_type,
            usage=text.usage,
            equipment=text.equipment,
            entity=text.entity,
            start=start,
            occurrences=text.occurrences,
        )
        for language in Language
    }


@dataclass(frozen=True)
class Templates:
    """Alertmanager templates of one language: a title (e-mail subject, Teams title), a
    plain text and an HTML body."""

    title: str
    text: str
    html: str


def _templates(language: Language, firing: str, resolved: str, escalated: str) -> Templates:
    summary = f"{{{{ .Annotations.summary_{language.value} }}}}"
    title = (
        f'{{{{ if eq .Status "firing" }}}}[{firing}] {{{{ else }}}}[{resolved}] {{{{ end }}}}'
        "{{ .CommonLabels.alarm_type }} {{ .CommonLabels.entity }} ({{ len .Alerts }})"
        f"{{{{ if .CommonLabels.escalation }}}} [{escalated} "
        "{{ .CommonLabels.escalation }}]{{ end }}"
    )
    lines = (
        f"{{{{ range .Alerts.Firing }}}}{firing}: {summary}\n{{{{ end }}}}"
        f"{{{{ range .Alerts.Resolved }}}}{resolved}: {summary}\n{{{{ end }}}}"
    )
    html = (
        f"{{{{ range .Alerts.Firing }}}}<p>{firing}: {summary}</p>{{{{ end }}}}"
        f"{{{{ range .Alerts.Resolved }}}}<p>{resolved}: {summary}</p>{{{{ end }}}}"
    )
    return Templates(title=title, text=lines, html=html)


TEMPLATES = {
    Language.FR: _templates(Language.FR, "ALARME", "RÉSOLUE", "escalade niveau"),
    Language.EN: _templates(Language.EN, "ALARM", "RESOLVED", "escalation level"),
}

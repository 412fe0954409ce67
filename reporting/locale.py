"""Words, numbers, months and times of a report in its language (Babel's locale data)."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime
from babel.numbers import format_decimal, format_percent

from models.errors import SmatiError
from reporting.messages import MESSAGES

__all__ = ["DASH", "LANGUAGES", "MISSING", "Formatter", "LanguageError"]

LANGUAGES = ("fr", "en")
_LOCALES = {"fr": "fr_FR", "en": "en_GB"}
DASH = " \u2013 "
"""Between a title and what it is about."""
MISSING = "\u2013"
"""A figure that is not known."""


class LanguageError(SmatiError, ValueError):
    """A report language SMATI has no words for."""


class Formatter:
    """Formats for one language: `t` for words, the others for figures and dates."""

    def __init__(self, language: str = "fr") -> None:
        if language not in LANGUAGES:
            raise LanguageError(f"no report language {language!r}: {', '.join(LANGUAGES)}")
        self.language = language
        self.locale = _LOCALES[language]
        self._column = LANGUAGES.index(language)

    def t(self, key: str, **values: object) -> str:
        return MESSAGES[key][self._column].format(**values)

    def number(self, value: float | None, digits: int = 0) -> str:
        if value is None:
            return MISSING
        pattern = "#,##0" + ("." + "0" * digits if digits else "")
        return format_decimal(value, format=pattern, locale=self.locale)

    def percent(self, share: float | None, digits: int = 0) -> str:
        if share is None:
            return MISSING
        rounded = round(share, digits + 2)
        return format_percent(rounded, locale=self.locale, decimal_quantization=False)

    def month(self, month: date, width: str = "MMM") -> str:
        """`MMM` gives "janv.", "Jan"; `MMMM y` gives "janvier 2026"."""
        return format_date(month, width, locale=self.locale)

    def day(self, day: date) -> str:
        return format_date(day, "medium", locale=self.locale)

    def time(self, moment: datetime | None, zone: str) -> str:
        """A time in the building's zone (times are UTC end to end); pages name the zone."""
        if moment is None:
            return self.t("never")
        return format_datetime(moment, "dd/MM/y HH:mm", tzinfo=ZoneInfo(zone), locale=self.locale)

    def duration(self, seconds: float | None) -> str:
        """Hours or days, the way a person reads a silence."""
        if seconds is None:
            return MISSING
        if seconds < 120:
            return f"{self.number(seconds)} s"
        if seconds < 3600:
            return f"{self.number(seconds / 60)} min"
        if seconds < 2 * 86400:
            return f"{self.number(seconds / 3600, 1)} h"
        return f"{self.number(seconds / 86400, 1)} {'j' if self.language == 'fr' else 'd'}"

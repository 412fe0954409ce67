"""Alertmanager's API v2, as the notifier uses it: post alerts, silence an alarm, expire a
silence. httpx for HTTP, tenacity for the retries of a server that is briefly away."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import httpx
from tenacity import (
    retry,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential,
)

from models.alerting.plan import Alert
from models.errors import SmatiError

__all__ = ["SILENCE_AUTHOR", "AlertmanagerApi", "AlertmanagerError"]

SILENCE_AUTHOR = "smati-notifier"


class AlertmanagerError(SmatiError, RuntimeError):
    """Alertmanager could not be reached (`status` None), or refused a request."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


def _transient(error: BaseException) -> bool:
    """Worth another try: no answer, or a server error (a 4xx would be refused again)."""
    if isinstance(error, httpx.HTTPStatusError):
        return error.response.status_code >= 500
    return isinstance(error, httpx.TransportError)


_retried = retry(
    retry=retry_if_exception(_transient),
    stop=stop_after_attempt(4),
    wait=wait_exponential(multiplier=0.1, max=2.0),
    reraise=True,
)


class AlertmanagerApi:
    """One Alertmanager at `url` (http://host:port)."""

    def __init__(self, url: str, timeout: float = 5.0) -> None:
        self.url = url
        self._client = httpx.Client(base_url=url, timeout=timeout)

    def close(self) -> None:
        self._client.close()

    def post_alerts(self, alerts: Sequence[Alert]) -> None:
        if alerts:
            self._request("POST", "/api/v2/alerts", json=[a.to_json() for a in alerts])

    def silence_alarm(self, labels: dict[str, str], now: datetime, days: float) -> str:
        """The id of an active silence of ours on this alarm, created if there is none
        (a notifier stopped before it stored the id finds it again)."""
        found = self._active_silence(labels["alarm_id"])
        if found is not None:
            return found
        body = {
            "matchers": [
                {"name": name, "value": labels[name], "isRegex": False, "isEqual": True}
                for name in ("tenant", "alarm_id")
            ],
            "startsAt": now.isoformat(),
            "endsAt": (now + timedelta(days=days)).isoformat(),
            "createdBy": SILENCE_AUTHOR,
            "comment": f"alarm {labels['alarm_id']} acknowledged: no reminders until it clears",
        }
        return str(self._request("POST", "/api/v2/silences", json=body)["silenceID"])

    def expire_silence(self, silence_id: str) -> None:
        """Expire it; one already expired or gone is fine."""
        try:
            self._request("DELETE", f"/api/v2/silence/{silence_id}")
        except AlertmanagerError as error:
            if error.status != 404:
                raise

    def reload(self) -> None:
        """Make it read its configuration file again; raise if it refuses the file."""
        self._request("POST", "/-/reload")

    def _active_silence(self, alarm_id: str) -> str | None:
        query = {"filter": f"alarm_id={json.dumps(alarm_id)}"}
        for silence in self._request("GET", "/api/v2/silences", params=query):
            if silence["createdBy"] == SILENCE_AUTHOR and silence["status"]["state"] == "active":
                return str(silence["id"])
        return None

    def _request(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            return self._send(method, path, **kwargs)
        except httpx.HTTPStatusError as error:
            response = error.response
            raise AlertmanagerError(
                f"Alertmanager at {self.url} answered {method} {path} with "
                f"{response.status_code}: {response.text.strip()[:300]}",
                response.status_code,
            ) from None
        except httpx.TransportError as error:
            raise AlertmanagerError(
                f"Alertmanager at {self.url} not reachable ({type(error).__name__}: {error})"
            ) from None

    @_retried
    def _send(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self._client.request(method, path, **kwargs)
        response.raise_for_status()
        is_json = response.headers.get("content-type", "").startswith("application/json")
        return response.json() if is_json and response.content else None

"""An SMTP server on loopback that keeps every message it receives in a Maildir.

aiosmtpd (PyPI) run as its own process (`python -m aiosmtpd` with its Mailbox handler), so
that Alertmanager's e-mails reach a real SMTP server in the demo and the tests, and a
person can read them (`mutt -f DIR`, or any Maildir reader). aiosmtpd's own
`Controller(port=0)` fails: the port is picked here.
"""

from __future__ import annotations

import email
import mailbox
import smtplib
import sys
import tempfile
from email.message import EmailMessage
from email.policy import default
from pathlib import Path

from services._process import Service, spawn
from services.ports import free_port

__all__ = ["SmtpServer"]


class SmtpServer(Service):
    """aiosmtpd on a free loopback port, storing messages in `maildir` (a Maildir folder,
    by default in its temporary work folder, removed when it stops)."""

    name = "smtp"
    log_name = "aiosmtpd.log"

    def __init__(self, maildir: Path | None = None, *, startup_timeout: float = 30.0) -> None:
        super().__init__(startup_timeout=startup_timeout)
        self._maildir = maildir

    @property
    def smarthost(self) -> str:
        """`host:port`, as Alertmanager's `smarthost` takes it."""
        return f"{self.host}:{self.started_port()}"

    @property
    def maildir(self) -> Path:
        if self._maildir is not None:
            return self._maildir
        if self.base_dir is None:
            raise RuntimeError("SmtpServer is not started")
        return self.base_dir / "maildir"

    def describe(self) -> str:
        return f"smtp://{self.smarthost}, maildir {self.maildir}"

    def _start(self, deadline: float) -> None:
        self.base_dir = Path(tempfile.mkdtemp(prefix="smati-smtp-"))
        self.port = free_port(self.host)
        mailbox.Maildir(self.maildir, create=True)
        argv = [
            sys.executable, "-m", "aiosmtpd", "-n", "-u",
            "-l", self.smarthost, "-c", "aiosmtpd.handlers.Mailbox", str(self.maildir),
        ]  # fmt: skip
        log_path = self.log_path
        assert log_path is not None
        self._proc = spawn(argv, log_path)
        self._wait_ready(self._answers, deadline=deadline, log_path=log_path)

    def _answers(self) -> bool:
        with smtplib.SMTP(self.host, self.started_port(), timeout=1.0) as client:
            return client.noop()[0] == 250

    def messages(self) -> list[EmailMessage]:
        """Every message received so far, headers decoded (`email.policy.default`)."""
        box = mailbox.Maildir(self.maildir, factory=None, create=False)
        return [
            email.message_from_bytes(box.get_bytes(key), policy=default) for key in box.iterkeys()
        ]

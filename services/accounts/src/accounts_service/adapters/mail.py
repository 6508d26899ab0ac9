"""Sending the e-mails that changes carry (``mails``, stored with the change that causes them), through SMTP.

A relay of their own sends them (woken by the write, a slow scan as fallback), so an e-mail is
sent at least once even if the process dies after the write. A crash between the send and its
marking sends it twice, with the same Message-ID, which mail clients fold. A recipient the server
refuses for good (5xx) is quarantined with the reason; an SMTP outage or a 4xx waits and retries.
"""

from __future__ import annotations

import logging
from email.message import EmailMessage
from email.utils import formatdate
from typing import Any

import aiosmtplib
from dinamis_common.messaging.relay import OutboxRelay
from opentelemetry.metrics import Meter

from accounts_service.adapters.repository import MAILS

log = logging.getLogger(__name__)


class SmtpSender:
    def __init__(self, host: str, port: int, sender: str, timeout: float = 15.0) -> None:
        self.host, self.port, self.sender, self.timeout = host, port, sender, timeout

    async def send(self, record: dict[str, Any]) -> None:
        message = EmailMessage()
        message["From"] = f"DINAMIS <{self.sender}>"
        message["To"] = record["to"]
        message["Subject"] = record["subject"]
        message["Date"] = formatdate(usegmt=True)
        message["Message-ID"] = f"<{record['id']}@dinamis.mail>"
        message.set_content(record["body"])
        await aiosmtplib.send(message, hostname=self.host, port=self.port, timeout=self.timeout,
                              start_tls=False, use_tls=False)
        log.info("e-mail %s sent to %s", record["id"], record["to"])


def mail_relay(sender: SmtpSender, poll_seconds: float, meter: Meter | None = None) -> OutboxRelay:
    """``meter``: the service's, so e-mails sent and quarantined are counted with its other metrics."""
    return OutboxRelay([], sender.send, poll_seconds=poll_seconds, field=MAILS, concurrency=4, meter=meter)

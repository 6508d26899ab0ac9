"""The stack's SMTP sink: every message sent to it (by the services, by Keycloak) is kept as a
file ``<state>/mail/<time_ns>-<uuid>.eml`` and delivered nowhere. It refuses recipients at
``refused.invalid`` (550, for good) and ``busy.invalid`` (451, for now), as real servers refuse.

``python -m dinamis_cli.stack.mail --port N --directory D`` serves it; ``messages(profile)``
reads what it kept (tests, ``dinamis mail``). With ``SMTP_HOST`` set the platform sends through
that server instead and there is no sink to read.
"""

from __future__ import annotations

import argparse
import asyncio
import email.policy
import os
import signal
import smtplib
import sys
import tempfile
import time
import uuid
from datetime import datetime
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import formatdate, getaddresses, parsedate_to_datetime
from pathlib import Path
from typing import Any

from dinamis_cli.stack import process
from dinamis_cli.stack.profile import Profile


def directory(profile: Profile) -> Path:
    return profile.path("mail")


def ready(profile: Profile) -> bool:
    try:
        with smtplib.SMTP(*profile.smtp_address, timeout=2) as smtp:
            return smtp.noop()[0] == 250
    except (OSError, smtplib.SMTPException):
        return False


def start(profile: Profile) -> None:
    pid = process.spawn(profile, "mail", [sys.executable, "-m", "dinamis_cli.stack.mail", "--port",
                                          str(profile.ports["mail"]), "--directory", str(directory(profile))])
    process.wait_until(lambda: ready(profile), 30, "mail sink", pid, process.log_file(profile, "mail"))


def messages(profile: Profile, to: str | None = None, after_ns: int = 0) -> list[EmailMessage]:
    """The messages the sink kept, oldest first; with ``to``, only those addressed to it
    (To, Cc or envelope recipient, case-insensitive); with ``after_ns``, only those received
    after that ``time.time_ns()``."""
    if host := profile.external("mail"):
        raise RuntimeError(f"e-mail goes to the external SMTP server {host} (SMTP_HOST): "
                           "there is no local sink to read; look at that server's mailboxes")
    return messages_in(directory(profile), to, after_ns)


def messages_in(into: Path, to: str | None = None, after_ns: int = 0) -> list[EmailMessage]:
    """What a sink serving ``into`` kept (see ``messages``); with ``after_ns``, only what it
    received after that ``time.time_ns()``."""
    files = sorted((f for f in into.glob("*.eml") if received_ns(f) > after_ns), key=received_ns)
    parser = BytesParser(policy=email.policy.default)
    found = [parser.parsebytes(f.read_bytes()) for f in files]
    if to is None:
        return found  # type: ignore[return-value]
    return [m for m in found if to.lower() in recipients(m)]  # type: ignore[misc]


def received_ns(kept: Path) -> int:
    """When the sink received a kept message (its file name starts with ``time.time_ns()``)."""
    return int(kept.name.split("-", 1)[0])


def received_at(message: EmailMessage) -> datetime | None:
    """When the sink received the message (its ``Received`` header)."""
    received = str(message.get("received", ""))
    return parsedate_to_datetime(received.rsplit(";", 1)[1].strip()) if ";" in received else None


def recipients(message: EmailMessage) -> set[str]:
    fields = [str(v) for name in ("to", "cc", "x-original-to") for v in message.get_all(name, [])]
    return {address.lower() for _, address in getaddresses(fields) if address}


class _Keep:
    """aiosmtpd handler: writes each message to a temporary file, then renames it into place, so
    a reader never sees half a message."""

    def __init__(self, into: Path) -> None:
        self.into = into

    async def handle_RCPT(self, server: object, session: Any, envelope: Any, address: str,
                          rcpt_options: list[str]) -> str:
        """Like a real server, it can refuse: ``…@refused.invalid`` for good (550), ``…@busy.invalid``
        for now (451), so the platform's handling of both can be seen and tested."""
        domain = address.rsplit("@", 1)[-1].lower()
        if domain == "refused.invalid":
            return "550 5.1.1 mailbox unavailable (refused for good)"
        if domain == "busy.invalid":
            return "451 4.3.0 mailbox busy, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: object, session: Any, envelope: Any) -> str:
        trace = (f"Received: from {session.host_name} ({session.peer[0]}) by dinamis-mail-sink; {formatdate()}\r\n"
                 f"X-Original-To: {', '.join(envelope.rcpt_tos)}\r\n")  # the envelope, as a mail server records it
        await asyncio.to_thread(self.keep, trace.encode() + envelope.original_content)
        return "250 Message accepted for delivery"

    def keep(self, data: bytes) -> None:
        fd, tmp = tempfile.mkstemp(dir=self.into, prefix=".incoming-")
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, self.into / f"{time.time_ns()}-{uuid.uuid4()}.eml")


async def listen(port: int, into: Path) -> asyncio.Server:
    """A sink in the running event loop (the stack's process, or a test's)."""
    from aiosmtpd.smtp import SMTP

    await asyncio.to_thread(into.mkdir, parents=True, exist_ok=True)
    loop = asyncio.get_running_loop()
    return await loop.create_server(lambda: SMTP(_Keep(into), hostname="dinamis-mail-sink"), "127.0.0.1", port)


async def serve(port: int, into: Path) -> None:
    loop = asyncio.get_running_loop()
    server = await listen(port, into)
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    server.close()
    await server.wait_closed()


def main() -> None:
    parser = argparse.ArgumentParser(description="SMTP sink: keeps every message as an .eml file.")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--directory", type=Path, required=True)
    args = parser.parse_args()
    args.directory.mkdir(parents=True, exist_ok=True)
    asyncio.run(serve(args.port, args.directory))


if __name__ == "__main__":
    main()

"""The e-mails an SMTP sink kept (the stack's sink, ``dinamis_cli.stack.mail``), waited for and
read as a person would: a sink served in the test's own loop (``Mailbox.in_directory``) or the
one of a running stack's profile (``Mailbox.of_profile``)."""

from __future__ import annotations

import asyncio
import smtplib
from collections.abc import Callable
from email.message import EmailMessage
from pathlib import Path

from dinamis_cli.stack import mail as sink
from dinamis_cli.stack.membership import link_token
from dinamis_cli.stack.profile import Profile

Kept = Callable[[str], list[EmailMessage]]  # address -> the messages to it, oldest first


def send(port: int, to: str, text: str, subject: str = "link") -> None:
    """Sends a plain-text e-mail to ``to`` through the SMTP server on the loopback ``port``."""
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "no-reply@dinamis.invalid", to, subject
    message.set_content(text)
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as smtp:
        smtp.send_message(message)


def body(message: EmailMessage) -> str:
    """What a person reads in the e-mail (its plain-text part)."""
    return message.get_body(("plain",)).get_content()


class Mailbox:
    """Waits up to ``timeout`` seconds for e-mails to arrive; every read looks at all that the sink
    kept for the address, oldest first."""

    def __init__(self, kept: Kept, timeout: float = 30.0) -> None:
        self.kept, self.timeout = kept, timeout

    @classmethod
    def in_directory(cls, directory: Path, timeout: float = 30.0) -> Mailbox:
        """The mailbox of a sink that keeps its messages in ``directory`` (``sink.listen``)."""
        return cls(lambda address: sink.messages_in(directory, to=address), timeout)

    @classmethod
    def of_profile(cls, profile: Profile, timeout: float = 30.0) -> Mailbox:
        """The mailbox of the profile's running sink."""
        return cls(lambda address: sink.messages(profile, to=address), timeout)

    async def to(self, address: str, count: int = 1, containing: str = "",
                 timeout: float | None = None) -> list[EmailMessage]:
        """The e-mails to ``address`` (whose text has ``containing``), once there are ``count``."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + (self.timeout if timeout is None else timeout)
        while True:
            kept = await asyncio.to_thread(self.kept, address)
            found = [m for m in kept if not containing or containing in body(m)]
            if len(found) >= count:
                return found
            assert loop.time() < deadline, f"no e-mail #{count} to {address} {containing!r}"
            await asyncio.sleep(0.1)

    async def __call__(self, address: str, /, count: int = 1, containing: str = "",
                       timeout: float | None = None) -> str:
        """The text of the ``count``-th e-mail to ``address`` (whose text has ``containing``); as
        ``dinamis_cli.stack.membership.ReadMail``, the text of the first one."""
        return body((await self.to(address, count, containing, timeout))[count - 1])

    async def link_token(self, address: str, nth: int = -1) -> str:
        """The token of the link in the ``nth`` e-mail to ``address`` (by default the last one
        there is; waits for that many to arrive)."""
        found = await self.to(address, abs(nth) if nth < 0 else nth + 1)
        return link_token(body(found[nth]))

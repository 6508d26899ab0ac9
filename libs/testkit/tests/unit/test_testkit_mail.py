"""The test kit's mailbox reads what a real SMTP sink (served in this loop) kept, as a person would:
it waits for e-mails that are still on their way and tells which one is missing."""

from __future__ import annotations

import asyncio

import pytest
from dinamis_cli.stack.mail import listen
from dinamis_cli.stack.profile import Profile
from dinamis_testkit.inprocess import free_port
from dinamis_testkit.mail import Mailbox, send


async def _after(delay: float, port: int, to: str, text: str) -> None:
    await asyncio.sleep(delay)
    await asyncio.to_thread(send, port, to, text)


async def test_the_mailbox_waits_for_the_nth_e_mail_to_an_address_and_reads_its_text_and_link(tmp_path):
    port = free_port()
    profile = Profile("unit", tmp_path, {"mail": port})
    sink = await listen(port, profile.path("mail"))
    try:
        for mailbox in (Mailbox.in_directory(profile.path("mail"), timeout=5), Mailbox.of_profile(profile, timeout=5)):
            await asyncio.to_thread(send, port, "camille@example.org", "Confirm: https://x/verify?token=first")
            later = asyncio.create_task(_after(0.3, port, "camille@example.org", "Sign: https://x/acceptance?token=second"))
            assert "token=second" in await mailbox("camille@example.org", 2)  # it was on its way when asked for
            await later
            assert "Confirm" in await mailbox("camille@example.org")
            assert await mailbox("camille@example.org", containing="Sign") == await mailbox("camille@example.org", 2)
            assert await mailbox.link_token("camille@example.org") == "second"
            assert await mailbox.link_token("camille@example.org", 0) == "first"
            assert [m["To"] for m in await mailbox.to("camille@example.org")] == ["camille@example.org"] * 2
            with pytest.raises(AssertionError, match=r"no e-mail #3 to camille@example\.org"):
                await mailbox("camille@example.org", 3, timeout=0.3)
            with pytest.raises(AssertionError, match=r"no e-mail #1 to nobody@example\.org"):
                await mailbox("nobody@example.org", timeout=0.3)
            for kept in profile.path("mail").glob("*.eml"):
                kept.unlink()  # the next mailbox starts from an empty sink
    finally:
        sink.close()

"""E-mails stored with the changes that cause them, sent over real SMTP (the stack's sink) from the
real FerretDB: a recipient the server refuses for good is set aside with its reason while every
other e-mail goes; one it refuses for now waits and is not dropped; none is sent twice."""

from __future__ import annotations

import pytest
from accounts_service.adapters.mail import SmtpSender, mail_relay
from accounts_service.adapters.repository import MAILS
from dinamis_cli.stack.mail import listen, messages_in
from dinamis_common.messaging.outbox import AggregateStore
from dinamis_common.mongo import make_mongo_client
from dinamis_testkit.inprocess import free_port

pytestmark = pytest.mark.integration


def _mail(i: str, to: str) -> dict[str, str]:
    return {"id": i, "to": to, "subject": f"subject {i}", "body": f"body {i}"}


@pytest.fixture
async def store(servers, unique):
    client = make_mongo_client(servers.mongodb_uri, "tests")
    db = client[f"it_mail_{unique}"]
    store = AggregateStore(db["users"], effects=(MAILS,))
    await store.ensure_indexes()
    yield store
    await client.drop_database(db.name)
    await client.close()


async def test_a_refused_recipient_is_quarantined_a_busy_one_waits_and_the_others_are_sent_once(store, tmp_path):
    port = free_port()
    sink = await listen(port, tmp_path)
    relay = mail_relay(SmtpSender("127.0.0.1", port, "no-reply@dinamis.invalid", timeout=5), poll_seconds=0.2)
    relay.add(store)
    try:
        await store.insert({"_id": "u1"}, effects={MAILS: {"01": _mail("01", "gone@refused.invalid"),
                                                            "02": _mail("02", "alice@example.org")}})
        await store.insert({"_id": "u2"}, effects={MAILS: {"03": _mail("03", "bob@example.org"),
                                                            "04": _mail("04", "later@busy.invalid")}})
        await store.insert({"_id": "u3"}, effects={MAILS: {"05": _mail("05", "carol@example.org")}})
        for _ in range(3):  # the busy mailbox keeps saying "later": it is retried, never dropped
            try:
                await relay.drain_once()
            except Exception as exc:  # the relay's run loop backs off on this
                assert "451" in str(exc)
    finally:
        sink.close()
        await sink.wait_closed()

    delivered = [str(m["to"]) for m in messages_in(tmp_path)]
    assert sorted(delivered) == ["alice@example.org", "bob@example.org", "carol@example.org"]  # once each
    assert relay.quarantined == 1
    u1 = await store.changes.find_one({"aggregate": "u1"})
    assert "550" in u1["mails_quarantine"]["01"]["reason"] and not u1["mails_pending"]
    u2 = await store.changes.find_one({"aggregate": "u2"})
    assert u2["mails_pending"] and list(u2["mails"]) == ["04"]  # bob's went, the busy one waits

"""A subscription through the accounts service's HTTP API on the real Kafka and FerretDB: e-mails
over SMTP carry the links, the certificate is really signed and verifiable, events reach Kafka,
unique indexes refuse a second subscription of one organisation."""

from __future__ import annotations

import asyncio
import hashlib

import pytest
from dinamis_cli.stack.membership import random_siret

pytestmark = pytest.mark.integration

SIRET = "21340172201787"
REP = {"first_name": "Louise", "last_name": "Maire", "email": "maire@ville-exemple.fr", "role": "Mayor"}


def described(**changes) -> dict:
    return {"name": "Ville d'Exemple", "category": "public-body", "country": "FR", "sector": "local authority",
            "identifier_scheme": "siret", "identifier": SIRET, "legal_representative": REP, **changes}


async def subscribe(service, api, correspondent: str, **changes) -> tuple[str, str, dict]:
    """Steps 1-3: returns (subscription id, edit token, the PUT answer)."""
    started = await api.post("/api/accounts/public/subscriptions",
                             json={"email": correspondent, "first_name": "Camille", "last_name": "Corr"})
    assert started.status_code == 202, started.text
    sid = started.json()["subscription_id"]
    token = await service.mailbox.link_token(correspondent)
    grant = await api.post(f"/api/accounts/public/subscriptions/{sid}/email-verification", json={"token": token})
    assert grant.status_code == 200, grant.text
    edit = grant.json()["edit_token"]
    answer = await api.put(f"/api/accounts/public/subscriptions/{sid}", json=described(**changes),
                           headers={"x-subscription-token": edit})
    return sid, edit, answer


async def test_subscribe_accept_approve_and_verify_the_signed_certificate(service):
    async with service.client() as anonymous:
        sid, _, described_ = await subscribe(service, anonymous, "corr@ville-exemple.fr")
        assert described_.status_code == 200 and described_.json()["status"] == "subscribed", described_.text

        token = await service.mailbox.link_token(REP["email"])
        page = (await anonymous.get(f"/api/accounts/public/subscriptions/{sid}/acceptance",
                                    params={"token": token})).json()
        assert page["legal_representative"] == "Louise Maire"
        texts = [await anonymous.get(d["url"].split("8000", 1)[-1]) for d in page["documents"]]
        assert [hashlib.sha256(t.content).hexdigest() for t in texts] == [d["sha256"] for d in page["documents"]]
        refs = [{k: d[k] for k in ("document_id", "version", "sha256")} for d in page["documents"]]
        accepted = await anonymous.post(
            f"/api/accounts/public/subscriptions/{sid}/acceptance",
            json={"token": token, "signatory": "Louise Maire", "documents": refs},
            headers={"x-forwarded-for": "198.51.100.9, 203.0.113.7", "user-agent": "Firefox/140"})
        assert accepted.status_code == 200, accepted.text
        assert {a["origin"] for a in accepted.json()["acceptances"]} == {"203.0.113.7 (Firefox/140)"}
        replay = await anonymous.post(f"/api/accounts/public/subscriptions/{sid}/acceptance",
                                      json={"token": token, "signatory": "Louise Maire", "documents": refs})
        assert replay.status_code == 410 and "already used" in replay.json()["message"]

    async with service.client("kc-admin", roles=("admin",)) as admin:
        approved = await admin.post(f"/api/accounts/entities/{sid}/reviews",
                                    json={"reviewer": "dinamis", "decision": "approve"})
        assert approved.status_code == 200, approved.text
        assert approved.json()["eligible_missions"] == ["pleiades", "spot-6-7"]
    assert "is a member" in (await service.mailbox.to("corr@ville-exemple.fr", 2))[-1]["Subject"]
    await asyncio.sleep(0.5)  # the correspondent's account is made meanwhile: no second e-mail about it
    assert len(await service.mailbox.to("corr@ville-exemple.fr")) == 2

    async with service.client("kc-member", entity=sid) as member, service.client() as anonymous:
        pdf = (await member.get(f"/api/accounts/entities/{sid}/certificate")).content
        assert pdf.startswith(b"%PDF")
        check = (await anonymous.post("/api/accounts/public/certificates/verify", content=pdf,
                                      headers={"content-type": "application/pdf"})).json()
        assert (check["valid"], check["registered"], check["entity_id"]) == (True, True, sid), check
        tampered = pdf.replace(b"Ville d'Exemple", b"Ville d'Ailleurs", 1)
        check = (await anonymous.post("/api/accounts/public/certificates/verify", content=tampered)).json()
        assert check["valid"] is False and check["problems"]

    records = await service.wire(4)
    entity_events = [dict(r.headers)["ce_type"].decode() for r in records if r.key == sid.encode()]
    assert entity_events == ["fr.dinamis.accounts.entity.subscribed.v1",
                             "fr.dinamis.accounts.entity.licence-accepted.v1", "fr.dinamis.accounts.entity.approved.v1"]
    [user_event] = [dict(r.headers)["ce_type"].decode() for r in records if r.key != sid.encode()]
    assert user_event == "fr.dinamis.accounts.user.activated.v1"
    # the correspondent's account is made on approval and pushed to the identity provider
    assert any(p[1:] == ("active", ("correspondent", "user"), "institutional") for p in service.identity.pushed)


async def test_bad_input_is_refused_with_a_message_and_nothing_is_stored(service):
    async with service.client() as anonymous, service.client("kc-admin", roles=("admin",)) as admin:
        sid, edit, wrong = await subscribe(service, anonymous, "bad@ville-exemple.fr", identifier="21340172201788")
        assert wrong.status_code == 422 and "checksum" in wrong.json()["message"]
        assert (await admin.get(f"/api/accounts/entities/{sid}")).json()["status"] == "describing"
        extra = await anonymous.put(f"/api/accounts/public/subscriptions/{sid}", headers={"x-subscription-token": edit},
                                    json={**described(), "discount": 100})
        assert extra.status_code == 422 and "discount" in extra.json()["message"]
        bad_mail = await anonymous.post("/api/accounts/public/subscriptions",
                                        json={"email": "not-an-address", "first_name": "A", "last_name": "B"})
        assert bad_mail.status_code == 422 and "email" in bad_mail.json()["message"]
        forged = await anonymous.post(f"/api/accounts/public/subscriptions/{sid}/email-verification",
                                      json={"token": "x" * 43})
        assert forged.status_code == 410


async def test_one_live_subscription_per_organisation_kept_by_the_unique_index(service):
    async with service.client() as anonymous:
        _, _, first = await subscribe(service, anonymous, "a@ville-deux.example.org", identifier="21340172201779")
        assert first.status_code == 200, first.text
        _, _, second = await subscribe(service, anonymous, "b@ville-deux.example.org", identifier="213401722 01779")
        assert second.status_code == 409
        assert "SIRET 213 401 722 01779 is already subscribed" in second.json()["message"]


async def test_an_organisation_never_sees_another_ones_private_data(service):
    async with service.client() as anonymous:
        _, _, theirs = await subscribe(service, anonymous, "c@ville-trois.example.org", identifier="55203253400646")
    sid = theirs.json()["entity_id"]
    async with service.client("kc-outsider", entity="another", roles=("user", "correspondent")) as outsider:
        for path in (f"/api/accounts/entities/{sid}", f"/api/accounts/entities/{sid}/users",
                     f"/api/accounts/entities/{sid}/certificate", f"/api/accounts/entities/{sid}/activity"):
            r = await outsider.get(path)
            assert r.status_code == 403, (path, r.text)
        assert (await outsider.get("/api/accounts/entities")).status_code == 403
        review = await outsider.post(f"/api/accounts/entities/{sid}/reviews",
                                     json={"reviewer": "dinamis", "decision": "approve"})
        assert review.status_code == 403 and "administrator" in review.json()["message"]
    async with service.client() as anonymous:
        assert (await anonymous.get(f"/api/accounts/entities/{sid}")).status_code == 401


async def approved_entity(service, anonymous, admin, correspondent: str) -> str:
    """An entity of its own (its own SIRET and legal representative), approved."""
    rep = {**REP, "email": f"rep.{correspondent}"}
    sid, _, answer = await subscribe(service, anonymous, correspondent, identifier=random_siret(),
                                     legal_representative=rep)
    assert answer.status_code == 200, answer.text
    token = await service.mailbox.link_token(rep["email"], -1)
    page = (await anonymous.get(f"/api/accounts/public/subscriptions/{sid}/acceptance", params={"token": token})).json()
    refs = [{k: d[k] for k in ("document_id", "version", "sha256")} for d in page["documents"]]
    accepted = await anonymous.post(f"/api/accounts/public/subscriptions/{sid}/acceptance",
                                    json={"token": token, "signatory": "Louise Maire", "documents": refs})
    assert accepted.status_code == 200, accepted.text
    assert (await admin.post(f"/api/accounts/entities/{sid}/reviews",
                             json={"reviewer": "dinamis", "decision": "approve"})).status_code == 200
    return sid


async def test_accounts_are_managed_by_their_own_correspondent_and_roles_by_another_administrator(service):
    async with service.client() as anonymous, service.client("kc-admin", roles=("admin",)) as admin:
        mine = await approved_entity(service, anonymous, admin, "c@ville-quatre.example.org")
        asked = await anonymous.post("/api/accounts/public/account-requests", json={
            "email": "dora@ville-quatre.example.org", "first_name": "Dora", "last_name": "Carto", "entity_id": mine})
        assert asked.status_code == 202, asked.text
        user_id = asked.json()["user_id"]
        await anonymous.post(f"/api/accounts/public/account-requests/{user_id}/email-verification",
                             json={"token": await service.mailbox.link_token("dora@ville-quatre.example.org")})

        async with service.client("kc-other-corr", entity="another", roles=("user", "correspondent")) as stranger:
            r = await stranger.post(f"/api/accounts/users/{user_id}/activation")
            assert r.status_code == 403 and "another entity" in r.json()["message"]
        async with service.client("kc-corr", entity=mine, roles=("user", "correspondent")) as corr:
            assert (await corr.post(f"/api/accounts/users/{user_id}/activation")).json()["status"] == "active"
            r = await corr.put(f"/api/accounts/users/{user_id}/roles", json={"roles": ["user", "admin"],
                                                                            "reason": "trust me"})
            assert r.status_code == 403 and "administrator" in r.json()["message"]
        # the identity provider made the account: its id is the one in the person's tokens
        for _ in range(100):
            if any(p[0] == user_id for p in service.identity.pushed):
                break
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.5)  # and the provider's id recorded on the account
        async with service.client(f"kc-{user_id}", entity=mine, roles=("user", "admin")) as herself:
            r = await herself.put(f"/api/accounts/users/{user_id}/roles", json={"roles": ["user", "operator"],
                                                                               "reason": "promotion"})
            assert r.status_code == 403 and "own roles" in r.json()["message"]
        r = await admin.put(f"/api/accounts/users/{user_id}/roles", json={
            "roles": ["user", "arbiter"], "cells": ["institutional"], "reason": "joins the institutional cell"})
        assert r.status_code == 200, r.text
        [change] = r.json()["role_history"]
        assert (change["roles"], change["previous_roles"], change["by"], change["reason"]) == (
            ["arbiter", "user"], ["user"], "kc-admin", "joins the institutional cell")


async def test_a_new_licence_version_is_accepted_again_before_the_entity_orders_under_it(service):
    async with service.client() as anonymous, service.client("kc-admin", roles=("admin",)) as admin:
        sid = await approved_entity(service, anonymous, admin, "c@ville-cinq.example.org")
        published = await admin.post("/api/accounts/documents", json={
            "document_id": "licence-pleiades", "version": "2026-11", "title": "Licence Pléiades 2026",
            "text": "Licence d'utilisation des produits Pléiades, version de novembre 2026."})
        assert published.status_code == 201, published.text
        for _ in range(100):  # the renewal follows from the publication's event
            entity = (await admin.get(f"/api/accounts/entities/{sid}")).json()
            if entity["eligible_missions"] == ["spot-6-7"]:
                break
            await asyncio.sleep(0.1)
        assert entity["eligible_missions"] == ["spot-6-7"]
        renewal = (await service.mailbox.to("rep.c@ville-cinq.example.org", 2))[-1]
        assert "new version" in renewal.get_body(("plain",)).get_content()
        token = await service.mailbox.link_token("rep.c@ville-cinq.example.org", -1)
        page = (await anonymous.get(f"/api/accounts/public/subscriptions/{sid}/acceptance",
                                    params={"token": token})).json()
        assert ("licence-pleiades", "2026-11") in {(d["document_id"], d["version"]) for d in page["documents"]}
        refs = [{k: d[k] for k in ("document_id", "version", "sha256")} for d in page["documents"]]
        again = await anonymous.post(f"/api/accounts/public/subscriptions/{sid}/acceptance",
                                     json={"token": token, "signatory": "Louise Maire", "documents": refs})
        assert again.json()["eligible_missions"] == ["pleiades", "spot-6-7"]

"""Class "servers without authentication" (issue 11), Kafka's part: the stack's Kafka asks every client
for a SCRAM-SHA-512 user, and a service's user may touch its own topics and groups only.

Before this change anyone on the machine read and wrote every topic and joined every consumer group.
The stack's shared test Kafka is not restarted here: ``servers.start_kafka`` starts a private broker of
its own (state directory under the test's temporary directory, free ports), exactly as ``dinamis up``
starts the stack's, and the clients are the platform's own (aiokafka with the settings' login, the
faststream broker a service builds from its ``ServiceSettings``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import GroupAuthorizationFailedError, KafkaError, TopicAuthorizationFailedError
from dinamis_contracts import accounts, requests
from dinamis_contracts.topics import TOPICS, service_of

REQUESTS_TOPIC, ACCOUNTS_TOPIC = requests.TOPIC, accounts.ENTITY_TOPIC


# --- the rules, from the topic table (no server) ------------------------------------------------

def test_every_topic_of_the_table_is_written_by_its_publisher_and_read_by_its_groups_only():
    from dinamis_cli.stack.kafka_acl import Acl, acls_of, services_of

    rules = {service: set(acls_of(service)) for service in services_of()}
    for topic in TOPICS:
        writers = {s for s, r in rules.items() if Acl("topic", topic.name, "literal", "WRITE") in r}
        readers = {s for s, r in rules.items() if Acl("topic", topic.name, "literal", "READ") in r}
        assert writers == {topic.publisher}, topic.name
        assert readers == {service_of(g) for g in topic.consumers}, topic.name
        for group in topic.consumers:  # each group is its own service's, by prefix, and nobody else's
            owners = {s for s, r in rules.items() if any(
                a.resource == "group" and a.pattern == "prefixed" and group.startswith(a.name) for a in r)}
            assert owners == {service_of(group)}, group
    granted = {a.name for r in rules.values() for a in r if a.resource == "topic"}
    assert granted == {t.name for t in TOPICS}  # no topic outside the table
    assert acls_of("gateway") == []  # a service without topics gets no right at all
    assert not any(a.operation not in ("READ", "WRITE", "CREATE", "DESCRIBE", "DESCRIBE_CONFIGS", "ALTER_CONFIGS",
                                       "IDEMPOTENT_WRITE") for r in rules.values() for a in r)


def test_a_namespace_prefixes_every_topic_and_group_rule():
    from dinamis_cli.stack.kafka_acl import acls_of

    rules = acls_of("requests", namespace="t42.")
    assert rules and all(a.name.startswith("t42.") for a in rules if a.resource != "cluster")


# --- a private Kafka with users ------------------------------------------------------------------

def own_kafka(env: pytest.MonkeyPatch) -> None:
    """A private profile's own Kafka, not the one a flow test's stack named in the environment
    (``KAFKA_BOOTSTRAP_SERVERS`` makes every profile use that broker)."""
    for variable in ("KAFKA_BOOTSTRAP_SERVERS", "KAFKA_SECURITY_PROTOCOL", "KAFKA_SASL_MECHANISM",
                     "KAFKA_USERNAME", "KAFKA_PASSWORD"):
        env.delenv(variable, raising=False)


@pytest.fixture(scope="module")
def kafka(tmp_path_factory) -> Iterator:
    """A profile whose Kafka runs with SASL/SCRAM and ACLs on free ports, the table's topics created by
    its administrator as ``dinamis up`` does."""
    from dinamis_cli.stack import servers, topics
    from dinamis_cli.stack.profile import Profile, repo_root
    from dinamis_testkit.inprocess import free_port

    profile = Profile("kafka-auth", tmp_path_factory.mktemp("kafka-auth"),
                      {"kafka": free_port(), "kafka_controller": free_port()})
    assert repo_root()  # the Kafka installed for the stack (scripts/install/kafka.sh) is the one started
    with pytest.MonkeyPatch.context() as env:
        own_kafka(env)
        try:
            servers.start_kafka(profile)
            topics.ensure(profile)
            yield profile
        finally:
            servers.server("kafka").stop(profile)


def _login(profile, user: str):
    from dinamis_cli.stack.servers import kafka_auth

    return kafka_auth(profile, user)


async def _admin_lists_topics(bootstrap: str, **options) -> list[str]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=3000, **options)
    try:
        await asyncio.wait_for(admin.start(), 15)
        return await asyncio.wait_for(admin.list_topics(), 15)
    finally:
        await admin.close()


async def test_a_client_without_credentials_or_with_a_wrong_password_is_refused(kafka):
    from dinamis_cli.stack.servers import kafka_secured

    assert kafka_secured(kafka)
    with pytest.raises((KafkaError, TimeoutError, OSError)):
        await _admin_lists_topics(kafka.kafka_bootstrap)  # PLAINTEXT: no user at all
    wrong = replace(_login(kafka, "requests"), password="not-the-password")
    with pytest.raises((KafkaError, TimeoutError)):
        await _admin_lists_topics(kafka.kafka_bootstrap, **wrong.client_options())
    unknown = replace(_login(kafka, "requests"), username="nobody")
    with pytest.raises((KafkaError, TimeoutError)):
        await _admin_lists_topics(kafka.kafka_bootstrap, **unknown.client_options())
    # the administrator sees every topic of the table; the requests service only those it may describe
    assert {t.name for t in TOPICS} <= set(await _admin_lists_topics(
        kafka.kafka_bootstrap, **_login(kafka, "admin").client_options()))
    seen = set(await _admin_lists_topics(kafka.kafka_bootstrap, **_login(kafka, "requests").client_options()))
    assert REQUESTS_TOPIC in seen and ACCOUNTS_TOPIC in seen  # it reads accounts' entities (requests.entities)
    assert "arbitration.cases.dlq" not in seen and "provisioning.orders.retry" not in seen


async def test_the_requests_service_publishes_its_topic_and_is_refused_elsewhere(kafka, unique):
    from dinamis_cli.stack.servers import kafka_service_env
    from dinamis_common.messaging.broker import KafkaAuth, make_broker
    from dinamis_common.settings import ServiceSettings
    from dinamis_common.telemetry import setup_telemetry

    env = kafka_service_env(kafka, "requests")
    assert env["KAFKA_USERNAME"] == "requests" and env["KAFKA_SECURITY_PROTOCOL"] == "SASL_PLAINTEXT"
    settings = ServiceSettings(service_name="requests", kafka_bootstrap_servers=kafka.kafka_bootstrap,
                               **{k.lower(): v for k, v in env.items()})
    auth = KafkaAuth.of(settings)

    # what the service's own broker publishes lands on its topic (read back by the administrator)
    broker = make_broker(kafka.kafka_bootstrap, setup_telemetry("requests"), auth)
    await broker.start()
    try:
        await broker.publish(f"published {unique}".encode(), topic=REQUESTS_TOPIC, key=unique.encode())
    finally:
        await broker.stop()
    reader = AIOKafkaConsumer(REQUESTS_TOPIC, bootstrap_servers=kafka.kafka_bootstrap, group_id=None,
                              auto_offset_reset="earliest", **_login(kafka, "admin").client_options())
    await reader.start()
    try:
        found: list[bytes] = []
        for _ in range(20):
            batch = await reader.getmany(timeout_ms=500)
            found += [r.value for records in batch.values() for r in records]
            if f"published {unique}".encode() in found:
                break
        assert f"published {unique}".encode() in found
    finally:
        await reader.stop()

    # accounts' topic: refused
    producer = AIOKafkaProducer(bootstrap_servers=kafka.kafka_bootstrap, acks="all", enable_idempotence=True,
                                request_timeout_ms=5000, **auth.client_options())
    await producer.start()
    try:
        with pytest.raises(TopicAuthorizationFailedError):
            await asyncio.wait_for(producer.send_and_wait(ACCOUNTS_TOPIC, b"forged", key=b"x"), 20)
    finally:
        await producer.stop()

    # its own group reads; arbitration's group is refused
    own = AIOKafkaConsumer(REQUESTS_TOPIC, bootstrap_servers=kafka.kafka_bootstrap, group_id="requests.tasking-index",
                           auto_offset_reset="earliest", **auth.client_options())
    await own.start()
    try:
        await own.getmany(timeout_ms=2000)
        await own.commit()
    finally:
        await own.stop()
    other = AIOKafkaConsumer(REQUESTS_TOPIC, bootstrap_servers=kafka.kafka_bootstrap, group_id="arbitration.cases",
                             auto_offset_reset="earliest", **auth.client_options())
    with pytest.raises(GroupAuthorizationFailedError):
        await asyncio.wait_for(other.start(), 20)
        await asyncio.wait_for(other.getmany(timeout_ms=5000), 20)
    await other.stop()


async def test_a_service_starts_consumes_and_is_ready_as_its_own_user(kafka, servers, tmp_path, unique):
    """The arbitration service, built as ``dinamis up`` builds it but in this test's loop, with only its own
    Kafka user: it finds its topics, answers ``/readyz``, and its group consumes and dead-letters a record it
    cannot read."""
    import httpx
    from arbitration_service.bootstrap import create_app
    from arbitration_service.settings import Settings
    from dinamis_testkit.service import serve_service

    @dataclass(frozen=True)
    class OnPrivateKafka:
        kafka: str
        mongodb_uri: str
        kafka_auth: Any

    where = OnPrivateKafka(kafka.kafka_bootstrap, servers.mongodb_uri, _login(kafka, "arbitration"))
    async with serve_service(where, tmp_path, "arbitration", create_app, Settings,
                             kafka_namespace="", dlq_metric_seconds=0.5) as served:
        async with httpx.AsyncClient(timeout=10) as client:
            ready = await client.get(f"{served.url}/readyz")
        assert ready.status_code == 200, ready.text
        # a record it cannot read on requests' topic: group arbitration.cases reads it, dead-letters it
        # (its WRITE on arbitration.cases.dlq) and commits past it
        admin = _login(kafka, "admin").client_options()
        producer = AIOKafkaProducer(bootstrap_servers=kafka.kafka_bootstrap, acks="all", **admin)
        await producer.start()
        try:
            sent = await producer.send_and_wait(REQUESTS_TOPIC, b"not a cloud event", key=unique.encode())
        finally:
            await producer.stop()
        client = AIOKafkaAdminClient(bootstrap_servers=kafka.kafka_bootstrap, **admin)
        await client.start()
        try:
            tp, committed = TopicPartition(REQUESTS_TOPIC, sent.partition), -1
            for _ in range(120):
                offsets = await client.list_consumer_group_offsets("arbitration.cases")
                committed = offsets[tp].offset if tp in offsets else -1
                if committed > sent.offset:
                    break
                await asyncio.sleep(0.5)
            assert committed > sent.offset, "arbitration.cases did not consume the record as its own user"
            dlq = TopicPartition("arbitration.cases.dlq", 0)
            reader = AIOKafkaConsumer(bootstrap_servers=kafka.kafka_bootstrap, **admin)
            await reader.start()
            try:
                assert (await reader.end_offsets([dlq]))[dlq] >= 1  # dead-lettered by the service's own user
            finally:
                await reader.stop()
        finally:
            await client.close()


OLD_CONFIG = """process.roles=broker,controller
node.id=1
controller.quorum.bootstrap.servers=127.0.0.1:{ctrl}
listeners=PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{ctrl}
advertised.listeners=PLAINTEXT://127.0.0.1:{port}
controller.listener.names=CONTROLLER
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
log.dirs={data}
offsets.topic.replication.factor=1
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
auto.create.topics.enable=false
"""


def test_a_kafka_formatted_before_authentication_asks_for_users_after_its_next_start(tmp_path, monkeypatch):
    """What switching a kept stack (the shared test stack, a developer's dev stack) does: its Kafka,
    formatted and run PLAINTEXT by the earlier code, is restarted by ``start_kafka``; its records stay,
    and from then on it asks every client for a user."""
    own_kafka(monkeypatch)
    import subprocess

    from dinamis_cli.stack import process, servers
    from dinamis_cli.stack.profile import Profile, cache_dir
    from dinamis_testkit.inprocess import free_port

    profile = Profile("kafka-kept", tmp_path, {"kafka": free_port(), "kafka_controller": free_port()})
    home = profile.path("kafka")
    home.mkdir(parents=True)
    (home / "server.properties").write_text(OLD_CONFIG.format(port=profile.ports["kafka"],
                                                              ctrl=profile.ports["kafka_controller"],
                                                              data=home / "data"))
    (home / "log4j2.properties").write_text(servers.LOG4J2)
    java = ["java", "-Xms128m", "-Xmx512m", f"-Dlog4j2.configurationFile={home / 'log4j2.properties'}",
            "-cp", str(cache_dir() / "kafka" / servers.KAFKA_VERSION / "libs" / "*")]
    subprocess.run([*java, "kafka.tools.StorageTool", "format", "--standalone", "-t", "MkU3OEVBNTcwNTJENDM2Qg",
                    "-c", str(home / "server.properties")], check=True, stdout=subprocess.DEVNULL)
    try:
        assert not servers.kafka_secured(profile)
        pid = process.spawn(profile, "kafka", [*java, "kafka.Kafka", str(home / "server.properties")])
        process.wait_until(lambda: servers.kafka_ready(profile), 90, "the PLAINTEXT Kafka", pid,
                           process.log_file(profile, "kafka"))

        async def before() -> None:
            from dinamis_common.messaging.broker import ensure_topics

            await ensure_topics(profile.kafka_bootstrap, [REQUESTS_TOPIC], partitions=1)
            producer = AIOKafkaProducer(bootstrap_servers=profile.kafka_bootstrap, acks="all")
            await producer.start()
            try:
                await producer.send_and_wait(REQUESTS_TOPIC, b"kept", key=b"k")
            finally:
                await producer.stop()

        process.run_sync(before)
        assert servers.server("kafka").stop(profile)

        servers.start_kafka(profile)  # as `dinamis up` after the change
        assert servers.kafka_secured(profile)

        async def after() -> None:
            with pytest.raises((KafkaError, TimeoutError, OSError)):
                await _admin_lists_topics(profile.kafka_bootstrap)
            login = servers.kafka_auth(profile, "requests").client_options()
            assert REQUESTS_TOPIC in await _admin_lists_topics(profile.kafka_bootstrap, **login)
            reader = AIOKafkaConsumer(REQUESTS_TOPIC, bootstrap_servers=profile.kafka_bootstrap, group_id=None,
                                      auto_offset_reset="earliest", **servers.kafka_auth(profile).client_options())
            await reader.start()
            try:
                batch = await reader.getmany(timeout_ms=10000)
                assert [r.value for records in batch.values() for r in records] == [b"kept"]
            finally:
                await reader.stop()

        process.run_sync(after)
    finally:
        servers.server("kafka").stop(profile)


async def _writes(bootstrap: str, topic: str, auth) -> bool:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", request_timeout_ms=5000,
                                **auth.client_options())
    await producer.start()
    try:
        await asyncio.wait_for(producer.send_and_wait(topic, b"probe", key=b"k"), 20)
        return True
    except TopicAuthorizationFailedError:
        return False
    finally:
        await producer.stop()


def test_a_right_the_table_does_not_give_is_taken_back_at_the_next_start(kafka):
    """A kept broker follows the table: a rule granted by hand (or by an older table) to a service's user
    is deleted when the stack writes the users and ACLs again."""
    from dinamis_cli.stack import kafka_users, process, servers
    from dinamis_cli.stack.kafka_acl import Acl

    requests_login = _login(kafka, "requests")
    controller = {"security_protocol": "SASL_PLAINTEXT", "sasl_mechanism": "PLAIN",
                  "sasl_plain_username": servers.KAFKA_CONTROLLER,
                  "sasl_plain_password": servers._kafka_secret(kafka, servers.KAFKA_CONTROLLER)}
    extra = {"requests": [Acl("topic", ACCOUNTS_TOPIC, "literal", "WRITE")]}
    process.run_sync(lambda: kafka_users.apply("127.0.0.1", kafka.ports["kafka_controller"], controller, {}, extra))
    assert process.run_sync(lambda: _writes(kafka.kafka_bootstrap, ACCOUNTS_TOPIC, requests_login))

    assert servers._kafka_access(kafka)  # what start_kafka does at each start
    assert not process.run_sync(lambda: _writes(kafka.kafka_bootstrap, ACCOUNTS_TOPIC, requests_login))
    assert process.run_sync(lambda: _writes(kafka.kafka_bootstrap, REQUESTS_TOPIC, requests_login))

"""Kafka topics of the stack, created from the platform's table (``dinamis_contracts.topics``):
the broker creates none by itself (``auto.create.topics.enable=false``)."""

from __future__ import annotations

from dinamis_common.messaging.broker import TopicChanges, ensure_topics
from dinamis_contracts.topics import topic_configs

from dinamis_cli.stack.process import run_sync
from dinamis_cli.stack.profile import Profile


def ensure(profile: Profile) -> TopicChanges:
    """Creates the missing topics, adds partitions and sets the configuration the table gives to
    existing ones (replication capped at the brokers there are); never deletes anything."""
    from dinamis_cli.stack.servers import kafka_auth

    auth = kafka_auth(profile)  # the administrator: it creates and configures every service's topics
    return run_sync(lambda: ensure_topics(profile.kafka_bootstrap, topic_configs(), reconcile=True, auth=auth))

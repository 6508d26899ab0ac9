"""Each service's Kafka rights, derived from the topic table (``dinamis_contracts.topics``) and nothing else.

A pure function: the local stack applies it to its broker (``kafka_users``), and the Kubernetes
``KafkaUser`` resources (Strimzi ``simple`` authorization) render the same list. A service may:

- WRITE and DESCRIBE what it publishes, its groups' retry and dead-letter topics included (the
  table names it as their publisher);
- READ and DESCRIBE what its groups read (the streams and its groups' retry topics);
- READ its consumer groups: every group named ``<service>.`` (prefixed), the ``.dlq.replayed``
  groups its DLQ gauge reads included;
- CREATE the topics it needs (``dinamis_common.runtime`` creates the missing ones at start, whichever
  service comes first), DESCRIBE_CONFIGS and ALTER_CONFIGS on those it owns (publishes);
- IDEMPOTENT_WRITE on the cluster: its producers are idempotent (``acks=all``); Kafka 3+ also
  accepts WRITE on a topic for it, older brokers and some operators ask for this one.

Nothing else: no other service's groups, no topic outside the table, no DELETE, no ALTER of ACLs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from dinamis_contracts.topics import TOPICS, Topic, service_of

Resource = Literal["topic", "group", "cluster"]
Pattern = Literal["literal", "prefixed"]
Operation = Literal["READ", "WRITE", "CREATE", "DESCRIBE", "DESCRIBE_CONFIGS", "ALTER_CONFIGS", "IDEMPOTENT_WRITE"]
CLUSTER = "kafka-cluster"  # the one name Kafka gives the cluster resource


@dataclass(frozen=True, order=True)
class Acl:
    """One ALLOW rule for the service's principal ``User:<service>``, from any host."""

    resource: Resource
    name: str
    pattern: Pattern
    operation: Operation


def _reads(topic: Topic, service: str) -> bool:
    return any(service_of(group) == service for group in topic.consumers)


def acls_of(service: str, namespace: str = "", topics: tuple[Topic, ...] = TOPICS) -> list[Acl]:
    """The rules of ``service`` (sorted, no duplicates); ``namespace`` prefixes topic and group names
    as ``kafka_namespace`` does. A service with no topic in the table gets no rule at all."""
    rules: set[Acl] = set()
    for topic in topics:
        name = namespace + topic.name
        owns, reads = topic.publisher == service, _reads(topic, service)
        if owns:
            rules |= {Acl("topic", name, "literal", op) for op in ("WRITE", "DESCRIBE", "CREATE",
                                                                   "DESCRIBE_CONFIGS", "ALTER_CONFIGS")}
        if reads:
            rules |= {Acl("topic", name, "literal", op) for op in ("READ", "DESCRIBE", "CREATE")}
    if rules:
        rules.add(Acl("group", f"{namespace}{service}.", "prefixed", "READ"))
        if any(topic.publisher == service for topic in topics):
            rules.add(Acl("cluster", CLUSTER, "literal", "IDEMPOTENT_WRITE"))
    return sorted(rules)


def services_of(topics: tuple[Topic, ...] = TOPICS) -> list[str]:
    """Every service the table names, as publisher or as a group's owner: one Kafka user each."""
    names = {t.publisher for t in topics} | {service_of(g) for t in topics for g in t.consumers}
    return sorted(names)

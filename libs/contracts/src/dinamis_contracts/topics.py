"""Every Kafka topic of the platform, declared once: who publishes it, which consumer groups read
it, the event types it carries, and how the broker keeps it.

The table is plain data. ``topic_configs()`` renders it for whatever creates topics: the local
stack (``dinamis up``), each service at start (its own topics, idempotently) and, later, the
Kubernetes ``KafkaTopic`` resources. Values are production values; ``topic_configs(brokers=1)``
lowers replication (and ``min.insync.replicas``) to what a one-broker stack can hold.

Each consumer group owns two topics of its own: ``<group>.retry`` (records its handler failed on,
read again by the same group after a delay, never blocking the live topic) and ``<group>.dlq``
(records set aside for a person, with their reason; ``dinamis dlq`` reads and replays them).
A group is named ``<consuming service>.<purpose>``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from dinamis_contracts import accounts, arbitration, provisioning, quota, requests
from dinamis_contracts.base import Payload

DAY_MS = 24 * 3600 * 1000
FOREVER = -1

Kind = Literal["events", "retry", "dlq"]


@dataclass(frozen=True)
class Topic:
    name: str
    publisher: str  # the service that writes it
    consumers: tuple[str, ...] = ()  # consumer groups of the platform that read it
    events: Mapping[str, type[Payload]] = field(default_factory=dict)  # CloudEvent type -> payload
    kind: Kind = "events"
    partitions: int = 3
    replication_factor: int = 3
    min_insync_replicas: int = 2  # with acks=all: a record is kept on two brokers before it counts as written
    retention_ms: int = 7 * DAY_MS
    cleanup_policy: Literal["delete", "compact"] = "delete"


def service_of(group: str) -> str:
    """The service a consumer group belongs to (groups are ``<service>.<purpose>``)."""
    return group.split(".", 1)[0]


def retry_topic(group: str) -> str:
    return f"{group}.retry"


def dlq_topic(group: str) -> str:
    return f"{group}.dlq"


# Accounts events carry the aggregate's whole public state, keyed by its id: compacted, kept for
# ever, so a read model built from offset 0 (a new service, a partner) sees every entity's latest
# state. The other streams are work in flight (the services keep the history): a month.
STREAMS: tuple[Topic, ...] = (
    Topic(accounts.ENTITY_TOPIC, "accounts",
          consumers=("requests.entities", "accounts.correspondents"),
          events={accounts.ENTITY_SUBSCRIBED: accounts.EntitySubscribedV1,
                  accounts.LICENCE_ACCEPTED: accounts.LicenceAcceptedV1,
                  accounts.ENTITY_APPROVED: accounts.EntityApprovedV1,
                  accounts.ENTITY_REJECTED: accounts.EntityRejectedV1,
                  accounts.ENTITY_SUSPENDED: accounts.EntitySuspendedV1,
                  accounts.ENTITY_ELIGIBILITY_CHANGED: accounts.EntityEligibilityChangedV1},
          retention_ms=FOREVER, cleanup_policy="compact"),
    Topic(accounts.USER_TOPIC, "accounts",
          consumers=("accounts.identity-sync",),
          events={accounts.USER_REQUESTED: accounts.UserRequestedV1,
                  accounts.USER_ACTIVATED: accounts.UserActivatedV1,
                  accounts.USER_DEACTIVATED: accounts.UserDeactivatedV1,
                  accounts.USER_ROLES_CHANGED: accounts.UserRolesChangedV1,
                  accounts.IDENTITY_LINKED: accounts.IdentityLinkedV1},
          retention_ms=FOREVER, cleanup_policy="compact"),
    Topic(accounts.DOCUMENT_TOPIC, "accounts",
          consumers=("accounts.licence-renewal",),
          events={accounts.DOCUMENT_PUBLISHED: accounts.DocumentPublishedV1},
          retention_ms=FOREVER, cleanup_policy="compact"),
    Topic(requests.TOPIC, "requests",
          consumers=("arbitration.cases", "accounts.activity", "arbitration.quota-releases",
                     "requests.tasking-index", "provisioning.requests"),
          events={requests.REQUEST_SUBMITTED: requests.RequestSubmittedV1,
                  requests.REQUEST_STATUS_CHANGED: requests.RequestStatusChangedV1,
                  requests.REQUEST_CANCELLED: requests.RequestCancelledV1,
                  requests.INFORMATION_PROVIDED: requests.InformationProvidedV1},
          retention_ms=30 * DAY_MS),
    Topic(arbitration.TOPIC, "arbitration",
          consumers=("provisioning.orders", "requests.review-status"),
          events={arbitration.CASE_OPENED: arbitration.CaseOpenedV1,
                  arbitration.DECISION_RECORDED: arbitration.DecisionRecordedV1},
          retention_ms=30 * DAY_MS),
    Topic(quota.TOPIC, "arbitration",
          events={quota.QUOTA_HELD: quota.QuotaHeldV1,
                  quota.QUOTA_COMMITTED: quota.QuotaCommittedV1,
                  quota.QUOTA_RELEASED: quota.QuotaReleasedV1},
          retention_ms=30 * DAY_MS),
    Topic(provisioning.TOPIC, "provisioning",
          consumers=("requests.order-status", "catalogue.acquisitions", "arbitration.deliveries"),
          events={provisioning.ORDER_RECORDED: provisioning.OrderRecordedV1,
                  provisioning.ORDER_PLACED: provisioning.OrderPlacedV1,
                  provisioning.ORDER_FAILED: provisioning.OrderFailedV1,
                  provisioning.ORDER_CANCELLED: provisioning.OrderCancelledV1,
                  provisioning.ACQUISITION_PROGRESSED: provisioning.AcquisitionProgressedV1,
                  provisioning.DELIVERY_COMPLETED: provisioning.DeliveryCompletedV1},
          retention_ms=30 * DAY_MS),
)


def _group_topics(streams: tuple[Topic, ...]) -> tuple[Topic, ...]:
    """Each group's retry topic (a week: a retry is due within minutes) and dead-letter topic
    (a quarter: long enough for a person to look, fix and replay)."""
    out: list[Topic] = []
    for stream in streams:
        for group in stream.consumers:
            out.append(Topic(retry_topic(group), service_of(group), consumers=(group,), events=stream.events,
                             kind="retry"))
            out.append(Topic(dlq_topic(group), service_of(group), events=stream.events, kind="dlq",
                             partitions=1, retention_ms=90 * DAY_MS))
    return tuple(out)


TOPICS: tuple[Topic, ...] = STREAMS + _group_topics(STREAMS)


def by_name() -> dict[str, Topic]:
    return {t.name: t for t in TOPICS}


def source_of(group: str) -> Topic:
    """The stream a consumer group reads."""
    return next(t for t in STREAMS if group in t.consumers)


def topics_of(service: str) -> list[Topic]:
    """What a service needs to exist: what it publishes, what its groups read, its groups'
    retry and dead-letter topics."""
    return [t for t in TOPICS
            if t.publisher == service or any(service_of(g) == service for g in t.consumers)]


def render(topic: Topic, brokers: int | None = None, namespace: str = "") -> dict[str, Any]:
    """One topic as an admin client or a ``KafkaTopic`` resource wants it. ``brokers`` caps the
    replication factor (a one-broker local stack); ``namespace`` prefixes the name (isolated
    test stacks sharing one cluster)."""
    replicas = topic.replication_factor if brokers is None else max(1, min(topic.replication_factor, brokers))
    return {
        "name": namespace + topic.name,
        "partitions": topic.partitions,
        "replication_factor": replicas,
        "config": {
            "cleanup.policy": topic.cleanup_policy,
            "retention.ms": str(topic.retention_ms),
            "min.insync.replicas": str(min(topic.min_insync_replicas, replicas)),
        },
    }


def topic_configs(brokers: int | None = None, namespace: str = "",
                  topics: tuple[Topic, ...] | list[Topic] = TOPICS) -> list[dict[str, Any]]:
    """The table rendered (see ``render``), in declaration order."""
    return [render(t, brokers, namespace) for t in topics]

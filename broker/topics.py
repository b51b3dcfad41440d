"""Topic admin: create the topics the partner registry calls for, idempotently.

Each registered partner gets ``partners.<code>.<kind>.v1`` for every kind it is mandated for;
the hub adds its dead-letter and alerts topics. Topics are created explicitly because a broker
that auto-creates them picks its own partition count (Tansu: 4).

In production, onboarding a partner also means a SCRAM user and prefix ACLs
(``partners.<code>.``) so that it can write only its own topics. Those are made by
``partnerhub provision`` (the docker-compose ``kafka-init`` job), not here: the embedded broker
(Tansu) accepts ACL calls but ignores them, so the embedded path could not test them honestly.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field

from kafka import KafkaAdminClient
from kafka.admin import NewPartitions
from kafka.errors import IncompatibleBrokerVersion, KafkaError, TopicAlreadyExistsError

from broker import clients
from broker.settings import KafkaSettings
from schemas import refdata
from schemas.topics import ALERTS_TOPIC, DEADLETTER_TOPIC

log = logging.getLogger(__name__)


class TopicSyncFailed(RuntimeError):
    """The broker refused to create a topic, or could not be reached."""


@dataclass(frozen=True)
class SyncResult:
    """What :func:`sync_topics` did: topics created, topics already there, partitions of each."""

    created: tuple[str, ...]
    existing: tuple[str, ...]
    partitions: Mapping[str, int]
    #: Existing topics given more partitions (``grow=True``), with their count before.
    grown: Mapping[str, int] = field(default_factory=dict)

    def mismatched(self, wanted: int) -> dict[str, int]:
        """Existing topics whose partition count is not ``wanted`` (sync never changes them)."""
        return {t: n for t in self.existing if (n := self.partitions.get(t, wanted)) != wanted}


def registry_topics(registry: Mapping[str, refdata.Partner]) -> list[str]:
    """Every partner topic of ``registry``, in registry order, then the hub's own topics."""
    topics = [topic for partner in registry.values() for topic in partner.topics()]
    return [*topics, DEADLETTER_TOPIC, ALERTS_TOPIC]


def sync_topics(
    settings: KafkaSettings,
    registry: Mapping[str, refdata.Partner] | None = None,
    partitions: int | None = None,
    *,
    grow: bool = False,
    timeout: float = 30.0,
) -> SyncResult:
    """Create every topic of :func:`registry_topics` that is missing; report what exists.

    ``registry`` defaults to the packaged one, ``partitions`` to ``settings.partitions``;
    replication is ``settings.replication_factor``. Existing topics are left as they are, unless
    ``grow``: then those with fewer than ``partitions`` get more (Kafka never shrinks a topic).
    Growing moves the partition a key maps to, which is safe here: the hub never relies on the
    key, and the newest revision of an event wins whichever partition it arrives in.
    Raises :class:`TopicSyncFailed`.
    """
    registry = refdata.partners() if registry is None else registry
    partitions = settings.partitions if partitions is None else partitions
    wanted = registry_topics(registry)
    ms = int(timeout * 1000)
    try:
        admin = clients.admin(settings, timeout=timeout)
    except KafkaError as error:
        raise TopicSyncFailed(
            f"cannot reach the Kafka broker at {settings.bootstrap}: {error}"
        ) from None
    try:
        created, existing = ensure_topics(
            admin, {topic: partitions for topic in wanted}, settings.replication_factor, ms
        )
        described = admin.describe_topics(wanted)
        counts = {t["name"]: len(t.get("partitions") or ()) for t in described}
        grown = {t: n for t in existing if (n := counts.get(t, partitions)) < partitions}
        if grow and grown:
            try:
                admin.create_partitions(
                    {t: NewPartitions(total_count=partitions) for t in grown}, timeout_ms=ms
                )
            except IncompatibleBrokerVersion:
                raise TopicSyncFailed(
                    f"the broker at {settings.bootstrap} cannot add partitions to existing topics "
                    "(Tansu cannot; Apache Kafka can): recreate them, or leave them as they are"
                ) from None
            counts.update(dict.fromkeys(grown, partitions))
            log.info("grew %d topics to %d partitions", len(grown), partitions)
    except KafkaError as error:
        raise TopicSyncFailed(f"topic sync against {settings.bootstrap} failed: {error}") from None
    finally:
        admin.close()
    log.info("topic sync: %d created, %d existing", len(created), len(existing))
    return SyncResult(
        created=tuple(created),
        existing=tuple(existing),
        partitions=counts,
        grown=grown if grow else {},
    )


def ensure_topics(
    admin: KafkaAdminClient, partitions: Mapping[str, int], replication: int, timeout_ms: int
) -> tuple[list[str], list[str]]:
    """Create the topics of ``partitions`` (name -> partition count) that are missing.

    Returns ``(created, already there)`` in the order given; a topic a concurrent creator made
    counts as already there, and existing topics are never changed. Raises
    :class:`TopicSyncFailed` when the broker refuses one, ``KafkaError`` when it cannot answer.
    """
    present = set(admin.list_topics())
    missing = {
        topic: {"num_partitions": count, "replication_factor": replication}
        for topic, count in partitions.items()
        if topic not in present
    }
    created: set[str] = set()
    if missing:
        response = admin.create_topics(missing, timeout_ms=timeout_ms, raise_errors=False)
        for result in response["topics"]:
            code = result["error_code"]
            if code == 0:
                created.add(result["name"])
            elif code != TopicAlreadyExistsError.errno:
                raise TopicSyncFailed(
                    f"creating topic {result['name']} failed: error {code}: "
                    f"{result['error_message']}"
                )
        admin.wait_for_topics(sorted(created), timeout_ms=timeout_ms)
    for topic in sorted(created):
        log.info("created topic %s (%d partitions)", topic, partitions[topic])
    return [t for t in partitions if t in created], [t for t in partitions if t not in created]

"""Production onboarding on Apache Kafka: topics, SCRAM users and prefixed ACLs from the registry.

What the registry calls for is computed by pure functions (:func:`build_plan`) and applied to a
broker by one thin function (:func:`apply_plan`), run by ``partnerhub provision`` (the compose
stack's ``kafka-init`` job). Every step is idempotent, so re-running it after a registry edit is
how a partner is onboarded.

- Partner ``<code>`` logs in as SCRAM user ``<code>`` and may WRITE and DESCRIBE topics whose
  names start with ``partners.<code>.``, nothing else. Partner codes have no ``.``, so the prefix
  of ``ab`` never matches a topic of ``ab_c``.
- The worker user may READ (and DESCRIBE) ``partners.*``, use its consumer group, WRITE ``hub.*``
  and use the Faust app's own internal topics (``<group>-*``).
- The HTTP gateway's user, when there is one (``PARTNERHUB_PROVISION_GATEWAY_USER``), may WRITE
  (and DESCRIBE) ``partners.*`` and the dead-letter topic: it publishes for the partner named
  by a token, which the gateway, not the broker, checks.
- Hub user names must contain a character no partner code can (``-``), so no partner, present or
  future, can be given a hub user's name and with it the hub's rights.

Passwords never live in the repository: ``PARTNERHUB_PARTNER_PASSWORDS`` holds a JSON object
``{"<code>": "<password>"}`` (or ``PARTNERHUB_PARTNER_PASSWORDS_FILE`` names a file holding one,
such as a Docker secret), and ``PARTNERHUB_PROVISION_WORKER_PASSWORD`` the worker's password.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from kafka import KafkaAdminClient
from kafka.admin import (
    ACL,
    ACLFilter,
    ACLOperation,
    ACLPermissionType,
    ACLResourcePatternType,
    ResourcePattern,
    ResourcePatternFilter,
    ResourceType,
    ScramMechanism,
    UserScramCredentialDeletion,
    UserScramCredentialUpsertion,
)
from kafka.errors import KafkaError

from broker import clients
from broker.settings import KafkaSettings
from broker.topics import TopicSyncFailed, ensure_topics, registry_topics
from schemas.refdata import PARTNER_CODE, Partner
from schemas.topics import DEADLETTER_TOPIC

log = logging.getLogger(__name__)

#: The worker's consumer group: Faust uses the app id (``streams.app.APP_ID``) as group id.
WORKER_GROUP = "partnerhub-worker"
#: The group of the worker's watcher of partner topics outside the registry
#: (``streams.watcher``): ``<group>-unregistered``.
UNREGISTERED_GROUP_SUFFIX = "-unregistered"
DEFAULT_WORKER_USER = "hub-worker"
#: The HTTP gateway's user where there is one (the embedded Apache Kafka, the compose stack).
DEFAULT_GATEWAY_USER = "hub-gateway"
PARTNERS_PREFIX = "partners."
HUB_PREFIX = "hub."

PASSWORDS_ENV = "PARTNERHUB_PARTNER_PASSWORDS"
PASSWORDS_FILE_ENV = "PARTNERHUB_PARTNER_PASSWORDS_FILE"
WORKER_USER_ENV = "PARTNERHUB_PROVISION_WORKER_USER"
GATEWAY_USER_ENV = "PARTNERHUB_PROVISION_GATEWAY_USER"
GATEWAY_PASSWORD_ENV = "PARTNERHUB_PROVISION_GATEWAY_PASSWORD"
WORKER_PASSWORD_ENV = "PARTNERHUB_PROVISION_WORKER_PASSWORD"

Operation = Literal["READ", "WRITE", "DESCRIBE"]
ResourceKind = Literal["topic", "group"]
PatternKind = Literal["literal", "prefixed"]

_RESOURCE_TYPES: dict[ResourceKind, ResourceType] = {
    "topic": ResourceType.TOPIC,
    "group": ResourceType.GROUP,
}
_PATTERN_TYPES: dict[PatternKind, ACLResourcePatternType] = {
    "literal": ACLResourcePatternType.LITERAL,
    "prefixed": ACLResourcePatternType.PREFIXED,
}


class ProvisionError(ValueError):
    """The registry, the names or the passwords do not allow a safe plan."""


class ProvisionFailed(RuntimeError):
    """The broker could not be reached or refused part of the plan."""


@dataclass(frozen=True, order=True)
class Grant:
    """One ALLOW ACL binding: ``user`` may ``operation`` resources matching ``name``."""

    user: str
    resource: ResourceKind
    pattern: PatternKind
    name: str
    operation: Operation

    @property
    def principal(self) -> str:
        return f"User:{self.user}"

    def covers(self, resource: ResourceKind, name: str) -> bool:
        """Whether this binding's resource pattern matches resource ``name``."""
        if resource != self.resource:
            return False
        return name.startswith(self.name) if self.pattern == "prefixed" else name == self.name

    def to_acl(self) -> ACL:
        """The kafka-python ACL for this binding (any host)."""
        return ACL(
            principal=self.principal,
            host="*",
            operation=ACLOperation[self.operation],
            permission_type=ACLPermissionType.ALLOW,
            resource_pattern=ResourcePattern(
                _RESOURCE_TYPES[self.resource], self.name, _PATTERN_TYPES[self.pattern]
            ),
        )

    def describe(self) -> str:
        """One line a person can read: ``User:x WRITE topic prefixed 'partners.x.'``."""
        return f"{self.principal} {self.operation} {self.resource} {self.pattern} {self.name!r}"


@dataclass(frozen=True)
class TopicSpec:
    name: str
    partitions: int


@dataclass(frozen=True)
class Plan:
    """Everything a broker needs for the registry: topics, users and ACL bindings."""

    topics: tuple[TopicSpec, ...]
    partner_users: tuple[str, ...]
    worker_user: str
    grants: tuple[Grant, ...]
    #: The HTTP gateway's user, if the operation runs one.
    gateway_user: str | None = None

    @property
    def users(self) -> tuple[str, ...]:
        gateway = (self.gateway_user,) if self.gateway_user else ()
        return (*self.partner_users, self.worker_user, *gateway)

    def grants_of(self, user: str) -> list[Grant]:
        return [grant for grant in self.grants if grant.user == user]

    def allows(self, user: str, operation: Operation, resource: ResourceKind, name: str) -> bool:
        """Whether the plan lets ``user`` do ``operation`` on resource ``name``."""
        return any(
            grant.operation == operation and grant.covers(resource, name)
            for grant in self.grants_of(user)
        )


def partner_prefix(code: str) -> str:
    """The topic-name prefix partner ``code`` may write: ``partners.<code>.``."""
    return f"{PARTNERS_PREFIX}{code}."


def partner_grants(code: str) -> list[Grant]:
    """What partner ``code`` may do: write and describe its own topics, nothing more."""
    if not PARTNER_CODE.fullmatch(code):
        raise ProvisionError(f"partner code {code!r} is not a valid partner code")
    prefix = partner_prefix(code)
    return [Grant(code, "topic", "prefixed", prefix, op) for op in ("WRITE", "DESCRIBE")]


def internal_topics(group: str = WORKER_GROUP) -> list[TopicSpec]:
    """Topics the Faust worker subscribes to besides the partners': its leader-election topic."""
    return [TopicSpec(f"{group}-__assignor-__leader", 1)]


def worker_grants(user: str, group: str = WORKER_GROUP) -> list[Grant]:
    """What the worker may do: read partner topics, write the hub's, use its group and topics."""
    own = f"{group}-"
    return [
        Grant(user, "topic", "prefixed", PARTNERS_PREFIX, "READ"),
        Grant(user, "topic", "prefixed", PARTNERS_PREFIX, "DESCRIBE"),
        Grant(user, "topic", "prefixed", HUB_PREFIX, "WRITE"),
        Grant(user, "topic", "prefixed", HUB_PREFIX, "DESCRIBE"),
        *(
            Grant(user, "group", "literal", name, op)
            for name in (group, f"{group}{UNREGISTERED_GROUP_SUFFIX}")
            for op in ("READ", "DESCRIBE")
        ),
        *(Grant(user, "topic", "prefixed", own, op) for op in ("READ", "WRITE", "DESCRIBE")),
    ]


def gateway_grants(user: str) -> list[Grant]:
    """What the HTTP gateway may do: write (and describe) every partner topic and the dead
    letters it keeps for KoboToolbox submissions it cannot map."""
    return [
        *(Grant(user, "topic", "prefixed", PARTNERS_PREFIX, op) for op in ("WRITE", "DESCRIBE")),
        *(Grant(user, "topic", "literal", DEADLETTER_TOPIC, op) for op in ("WRITE", "DESCRIBE")),
    ]


def check_hub_user(name: str, what: str) -> None:
    """Raise unless ``name`` can never be a partner code (it must contain a ``-``)."""
    if "-" not in name:  # PARTNER_CODE has no "-"
        raise ProvisionError(
            f"{what} {name!r} could one day be a partner code; a hub user name must contain '-'"
            " (for example 'hub-worker')"
        )


def build_plan(
    registry: Mapping[str, Partner],
    *,
    partitions: int,
    worker_user: str = DEFAULT_WORKER_USER,
    group: str = WORKER_GROUP,
    reserved_users: Iterable[str] = (),
    gateway_user: str | None = None,
) -> Plan:
    """The topics, users and ACL bindings ``registry`` calls for.

    ``reserved_users`` (the admin who applies the plan, say) may never be a partner. Raises
    :class:`ProvisionError` when a name is unsafe.
    """
    if partitions < 1:
        raise ProvisionError(f"partitions must be at least 1, not {partitions}")
    check_hub_user(worker_user, "worker user")
    if gateway_user is not None:
        check_hub_user(gateway_user, "gateway user")
    reserved = {worker_user, *reserved_users, *([gateway_user] if gateway_user else [])}
    for code, partner in registry.items():
        if code != partner.code:
            raise ProvisionError(f"registry key {code!r} names partner {partner.code!r}")
        if code in reserved:
            raise ProvisionError(f"partner code {code!r} is the name of a hub user")
    grants = [g for code in registry for g in partner_grants(code)]
    grants += worker_grants(worker_user, group)
    if gateway_user is not None:
        grants += gateway_grants(gateway_user)
    topics = [TopicSpec(name, partitions) for name in registry_topics(registry)]
    topics += internal_topics(group)
    return Plan(
        topics=tuple(topics),
        partner_users=tuple(registry),
        worker_user=worker_user,
        grants=tuple(grants),
        gateway_user=gateway_user,
    )


def load_passwords(environ: Mapping[str, str]) -> dict[str, str]:
    """Partner passwords by code from ``PARTNERHUB_PARTNER_PASSWORDS`` (a JSON object) or the
    file named by ``PARTNERHUB_PARTNER_PASSWORDS_FILE``; empty when neither is set."""
    inline = environ.get(PASSWORDS_ENV, "").strip()
    path = environ.get(PASSWORDS_FILE_ENV, "").strip()
    if inline and path:
        raise ProvisionError(f"set {PASSWORDS_ENV} or {PASSWORDS_FILE_ENV}, not both")
    if path:
        try:
            text, source = Path(path).read_text(encoding="utf-8"), path
        except OSError as error:
            raise ProvisionError(f"{PASSWORDS_FILE_ENV}: cannot read {path}: {error}") from None
    elif inline:
        text, source = inline, PASSWORDS_ENV
    else:
        return {}
    try:
        data: Any = json.loads(text)
    except json.JSONDecodeError as error:
        # The message names where the JSON broke, never the (secret) text itself.
        raise ProvisionError(f"{source}: not a JSON object: {error.msg}") from None
    if not isinstance(data, dict):
        raise ProvisionError(f'{source}: expected a JSON object {{"<partner>": "<password>"}}')
    bad = sorted(str(k) for k, v in data.items() if not isinstance(v, str) or not v)
    if bad:
        raise ProvisionError(f"{source}: password(s) of {', '.join(bad)} not a non-empty string")
    return dict(data)


def check_passwords(plan: Plan, passwords: Mapping[str, str]) -> list[str]:
    """Partners of ``plan`` without a password (they get topics and ACLs but cannot log in yet).

    Raises :class:`ProvisionError` for a password of a partner the registry does not have, which
    is most often a misspelt code.
    """
    unknown = sorted(set(passwords) - set(plan.partner_users))
    if unknown:
        raise ProvisionError(f"passwords given for partners not in the registry: {unknown}")
    return [user for user in plan.partner_users if user not in passwords]


# --- applying a plan to a broker --------------------------------------------------------------


@dataclass(frozen=True)
class ProvisionResult:
    """What :func:`apply_plan` did."""

    created_topics: tuple[str, ...]
    existing_topics: tuple[str, ...]
    users_set: tuple[str, ...]
    users_without_password: tuple[str, ...]
    acls: int
    #: ACL bindings of the plan's users that the plan does not call for (say, of a partner
    #: removed from the registry). Reported, never deleted: removing rights is a person's call.
    unplanned: tuple[str, ...] = field(default=())


def apply_plan(
    settings: KafkaSettings,
    plan: Plan,
    passwords: Mapping[str, str],
    worker_password: str,
    *,
    mechanism: str = "SCRAM-SHA-512",
    timeout: float = 30.0,
    on_step: Callable[[str], None] = lambda step: None,
    gateway_password: str = "",
) -> ProvisionResult:
    """Create missing topics, set the SCRAM credentials, add the ACL bindings of ``plan``.

    Connects with ``settings`` (an admin the broker treats as super user). Partners without a
    password are left without credentials. Raises :class:`ProvisionFailed`.
    """
    missing = check_passwords(plan, passwords)
    if not worker_password:
        raise ProvisionError(f"the worker needs a password ({WORKER_PASSWORD_ENV})")
    if plan.gateway_user and not gateway_password:
        raise ProvisionError(f"the gateway needs a password ({GATEWAY_PASSWORD_ENV})")
    ms = int(timeout * 1000)
    try:
        admin = clients.admin(settings, timeout=timeout)
    except KafkaError as error:
        raise ProvisionFailed(
            f"cannot reach the Kafka broker at {settings.bootstrap}: {error}"
        ) from None
    try:
        on_step("topics")
        created, existing = ensure_topics(
            admin,
            {spec.name: spec.partitions for spec in plan.topics},
            settings.replication_factor,
            ms,
        )
        on_step("users")
        credentials = {user: pw for user, pw in passwords.items() if user in plan.partner_users}
        credentials[plan.worker_user] = worker_password
        if plan.gateway_user:
            credentials[plan.gateway_user] = gateway_password
        set_credentials(admin, credentials, mechanism)
        on_step("acls")
        add_grants(admin, plan.grants)
        on_step("check")
        unplanned = unplanned_grants(list_acls(admin), plan)
    except (KafkaError, TopicSyncFailed) as error:
        raise ProvisionFailed(f"provisioning {settings.bootstrap} failed: {error}") from None
    finally:
        admin.close()
    for line in unplanned:
        log.warning("ACL binding not in the plan (left in place): %s", line)
    return ProvisionResult(
        created_topics=tuple(created),
        existing_topics=tuple(existing),
        users_set=tuple(sorted(credentials)),
        users_without_password=tuple(missing),
        acls=len(plan.grants),
        unplanned=tuple(unplanned),
    )


def set_credentials(
    admin: KafkaAdminClient, passwords: Mapping[str, str], mechanism: str = "SCRAM-SHA-512"
) -> None:
    """Create or update the SCRAM credential of each user (idempotent: same password, same
    login)."""
    if not passwords:
        return
    upserts = [
        UserScramCredentialUpsertion(user, ScramMechanism[mechanism.replace("-", "_")], password)
        for user, password in passwords.items()
    ]
    errors = {user: e for user, e in admin.alter_user_scram_credentials(upserts).items() if e}
    if errors:
        detail = "; ".join(f"{user}: {message}" for user, message in sorted(errors.items()))
        raise ProvisionFailed(f"setting SCRAM credentials failed: {detail}")
    for user in passwords:
        log.info("set %s credential of %s", mechanism, user)


def add_grants(admin: KafkaAdminClient, grants: Iterable[Grant]) -> None:
    """Add the ACL bindings (adding one that exists changes nothing)."""
    acls = [grant.to_acl() for grant in grants]
    if not acls:
        return
    result = admin.create_acls(acls)
    if result["failed"]:  # error classes, one per refused binding
        names = sorted({getattr(error, "__name__", str(error)) for error in result["failed"]})
        raise ProvisionFailed(f"{len(result['failed'])} ACL binding(s) refused: {', '.join(names)}")
    log.info("%d ACL bindings in place", len(acls))


def revoke_partner(
    settings: KafkaSettings, code: str, *, mechanism: str = "SCRAM-SHA-512", timeout: float = 30.0
) -> int:
    """Take partner ``code``'s rights and login away: delete every ACL binding of ``User:<code>``
    and its SCRAM credential (what docs/deploy.md's "To remove a partner" does with kafka-acls
    and kafka-configs). Its topics stay. Returns how many bindings were deleted."""
    if not PARTNER_CODE.fullmatch(code):
        raise ProvisionError(f"partner code {code!r} is not a valid partner code")
    admin = clients.admin(settings, timeout=timeout)
    try:
        everything = ResourcePatternFilter(ResourceType.ANY, None, ACLResourcePatternType.ANY)
        results = admin.delete_acls(
            [
                ACLFilter(
                    principal=f"User:{code}",
                    host=None,
                    operation=ACLOperation.ANY,
                    permission_type=ACLPermissionType.ANY,
                    resource_pattern=everything,
                )
            ]
        )
        errors = [error for _, _, error in results if error and error.errno]
        if errors:
            raise ProvisionFailed(f"deleting the ACL bindings of {code} failed: {errors}")
        deleted = sum(len(acls) for _, acls, _ in results)
        mech = ScramMechanism[mechanism.replace("-", "_")]
        failed = admin.alter_user_scram_credentials([UserScramCredentialDeletion(code, mech)])
        failed = {user: e for user, e in failed.items() if e}
        if failed:
            log.warning("no %s credential of %s to delete: %s", mechanism, code, failed[code])
    except KafkaError as error:
        raise ProvisionFailed(f"revoking {code} on {settings.bootstrap} failed: {error}") from None
    finally:
        admin.close()
    log.info("revoked %s: %d ACL bindings and its %s credential", code, deleted, mechanism)
    return deleted


def list_acls(admin: KafkaAdminClient) -> list[Grant | str]:
    """Every ACL binding on the broker: a :class:`Grant` when it is of a shape the hub writes,
    else a readable line."""
    acls, _ = admin.describe_acls(
        ACLFilter(
            principal=None,
            host=None,
            operation=ACLOperation.ANY,
            permission_type=ACLPermissionType.ANY,
            resource_pattern=ResourcePatternFilter(
                ResourceType.ANY, None, ACLResourcePatternType.ANY
            ),
        )
    )
    return [as_grant(acl) for acl in acls]


def as_grant(acl: ACL) -> Grant | str:
    """``acl`` as a :class:`Grant` if the hub could have written it, else as a readable line."""
    pattern = acl.resource_pattern
    kinds = {v: k for k, v in _RESOURCE_TYPES.items()}
    patterns = {v: k for k, v in _PATTERN_TYPES.items()}
    line = (
        f"{acl.principal} {acl.permission_type.name} {acl.operation.name} "
        f"{pattern.resource_type.name.lower()} {pattern.pattern_type.name.lower()} "
        f"{pattern.resource_name!r} from {acl.host}"
    )
    if (
        acl.permission_type == ACLPermissionType.ALLOW
        and acl.host == "*"
        and acl.principal.startswith("User:")
        and pattern.resource_type in kinds
        and pattern.pattern_type in patterns
        and acl.operation.name in ("READ", "WRITE", "DESCRIBE")
    ):
        return Grant(
            user=acl.principal.removeprefix("User:"),
            resource=kinds[pattern.resource_type],
            pattern=patterns[pattern.pattern_type],
            name=pattern.resource_name,
            operation=acl.operation.name,
        )
    return line


def unplanned_grants(existing: Iterable[Grant | str], plan: Plan) -> list[str]:
    """Bindings of ``plan``'s users, or of anyone on a partner topic, that ``plan`` lacks."""
    planned = set(plan.grants)
    users = set(plan.users)
    out: list[str] = []
    for item in existing:
        if isinstance(item, Grant):
            if item not in planned and (
                item.user in users or item.name.startswith(PARTNERS_PREFIX)
            ):
                out.append(item.describe())
        elif any(f"User:{user} " in item for user in users) or f"'{PARTNERS_PREFIX}" in item:
            out.append(item)
    return sorted(out)

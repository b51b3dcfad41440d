"""``partnerhub provision``: topics, SCRAM users and prefixed ACLs on a production Kafka."""

from __future__ import annotations

import os
from pathlib import Path

import typer
from rich.progress import BarColumn, Progress, TextColumn
from rich.table import Table

from broker.provision import (
    DEFAULT_WORKER_USER,
    GATEWAY_PASSWORD_ENV,
    GATEWAY_USER_ENV,
    WORKER_PASSWORD_ENV,
    WORKER_USER_ENV,
    Plan,
    ProvisionResult,
    apply_plan,
    build_plan,
    check_passwords,
    load_passwords,
)
from partnerhub.cli.common import DATA_DIR, CliError, console, settings

_STEPS = {"topics": "topics", "users": "SCRAM users", "acls": "ACL bindings", "check": "check"}


def provision(
    dry_run: bool = typer.Option(
        False, "--dry-run", help="Print the plan (topics, users, ACLs); connect to nothing."
    ),
    partitions: int | None = typer.Option(
        None, "--partitions", min=1, help="Partitions of new topics (default: from settings)."
    ),
    worker_user: str = typer.Option(
        DEFAULT_WORKER_USER, "--worker-user", envvar=WORKER_USER_ENV, help="The worker's user."
    ),
    data_dir: Path | None = DATA_DIR,
    gateway_user: str = typer.Option(
        None,
        "--gateway-user",
        envvar=GATEWAY_USER_ENV,
        help="The HTTP gateway's user (none: no gateway user); its password from "
        f"{GATEWAY_PASSWORD_ENV}.",
    ),
) -> None:
    """Create the registry's topics, partner and worker SCRAM users and their ACLs (idempotent).

    Runs as an admin the broker treats as super user (PARTNERHUB_KAFKA__USERNAME/PASSWORD).
    Partner passwords come from PARTNERHUB_PARTNER_PASSWORDS (JSON object) or the file named by
    PARTNERHUB_PARTNER_PASSWORDS_FILE; the worker's from PARTNERHUB_PROVISION_WORKER_PASSWORD.
    """
    hub = settings(data_dir)
    kafka = hub.kafka
    plan = build_plan(
        hub.registry(),
        partitions=kafka.partitions if partitions is None else partitions,
        worker_user=worker_user,
        reserved_users=[kafka.username] if kafka.username else [],
        gateway_user=gateway_user or None,
    )
    passwords = load_passwords(os.environ)
    without = check_passwords(plan, passwords)
    worker_password = os.environ.get(WORKER_PASSWORD_ENV, "")
    gateway_password = os.environ.get(GATEWAY_PASSWORD_ENV, "")
    if dry_run:
        _print_plan(plan, without, bool(worker_password))
        return
    if not kafka.security_protocol.startswith("SASL"):
        raise CliError(
            f"provision sets SCRAM users and ACLs, which needs a SASL listener; the broker at "
            f"{kafka.bootstrap} is configured as {kafka.security_protocol} (for topics alone "
            "use `partnerhub partners sync`)"
        )
    if not worker_password:
        raise CliError(f"{WORKER_PASSWORD_ENV} is not set: the worker needs a password")
    with Progress(
        TextColumn("{task.description}"), BarColumn(), console=console, transient=True
    ) as progress:
        task = progress.add_task(f"provisioning {kafka.bootstrap}", total=len(_STEPS))

        def step(name: str) -> None:
            progress.update(task, description=_STEPS[name], completed=list(_STEPS).index(name))

        result = apply_plan(
            kafka, plan, passwords, worker_password, on_step=step, gateway_password=gateway_password
        )
        progress.update(task, completed=len(_STEPS))
    _print_result(kafka.bootstrap, result)


def _print_plan(plan: Plan, without_password: list[str], worker_password: bool) -> None:
    topics = Table("topic", "partitions", title="Topics")
    for spec in plan.topics:
        topics.add_row(spec.name, str(spec.partitions))
    console.print(topics)
    users = Table("user", "role", "password", title="SCRAM users")
    for user in plan.partner_users:
        users.add_row(user, "partner", "[red]missing[/]" if user in without_password else "set")
    users.add_row(plan.worker_user, "worker", "set" if worker_password else "[red]missing[/]")
    if plan.gateway_user:
        users.add_row(plan.gateway_user, "gateway", "")
    console.print(users)
    acls = Table("principal", "operation", "resource", "pattern", "name", title="ACL bindings")
    for grant in plan.grants:
        acls.add_row(grant.principal, grant.operation, grant.resource, grant.pattern, grant.name)
    console.print(acls)


def _print_result(bootstrap: str, result: ProvisionResult) -> None:
    console.print(
        f"{bootstrap}: {len(result.created_topics)} topics created, "
        f"{len(result.existing_topics)} already there; credentials set for "
        f"{len(result.users_set)} users; {result.acls} ACL bindings in place"
    )
    for user in result.users_without_password:
        console.print(f"[yellow]note[/]: partner {user} has no password yet and cannot log in")
    for line in result.unplanned:
        console.print(f"[yellow]not in the plan (left in place)[/]: {line}")

"""``partnerhub gateway`` (the HTTP gateway) and ``partnerhub tokens`` (its partner tokens)."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import typer
import uvicorn
from rich.table import Table

from partnerhub.cli.common import DATA_DIR, CliError, State, console, settings
from partnerhub.settings import HubSettings
from producers.gateway.app import Gateway, create_app
from producers.gateway.kobo import Lineage, load_forms, load_mapping, to_event
from producers.gateway.kobo_intake import kobo_identity
from producers.gateway.publishing import Sender, check
from producers.gateway.serve import config
from producers.gateway.tokens import Scope, TokenStore, utc_now
from schemas.reasons import InvalidEvent
from streams.clock import shifted_clock

kobo_app = typer.Typer(help="KoboToolbox form mappings.", no_args_is_help=True)

tokens_app = typer.Typer(
    help="Partner tokens for the HTTP gateway (stored only as salted hashes).",
    no_args_is_help=True,
)


def build_gateway(hub: HubSettings) -> Gateway:
    """The gateway's parts from the hub's settings."""
    clock = shifted_clock(hub.start_time) if hub.start_time else utc_now
    return Gateway(
        registry=hub.registry(),
        tokens=TokenStore(hub.token_file()),
        sender=Sender(hub.kafka, hub.gateway.limits),
        limits=hub.gateway.limits,
        clock=clock,
        forms=load_forms(hub.kobo_folder()),
        lineage=Lineage(hub.data_dir / "gateway" / "kobo.sqlite"),
    )


def gateway(
    host: str = typer.Option(None, help="Address to listen on (default: settings, 127.0.0.1)."),
    port: int = typer.Option(None, help="Port (default: settings, 8088)."),
    data_dir: Path | None = DATA_DIR,
) -> None:
    """Run the HTTP gateway in the foreground (put a TLS proxy in front: docs/gateway.md)."""
    hub = settings(data_dir)
    if host is not None:
        hub.gateway.host = host
    if port is not None:
        hub.gateway.port = port
    logging.getLogger("producers.gateway").setLevel(logging.INFO)
    gw = build_gateway(hub)
    server = uvicorn.Server(config(create_app(gw), hub.gateway))
    console.print(
        f"gateway on http://{hub.gateway.host}:{hub.gateway.port} -> Kafka {hub.kafka.bootstrap}"
        f" (tokens: {hub.token_file()})"
    )
    try:
        server.run()
    finally:
        gw.sender.close()


def _store(data_dir: Path | None) -> tuple[HubSettings, TokenStore]:
    hub = settings(data_dir)
    return hub, TokenStore(hub.token_file())


@tokens_app.command("create")
def create(
    partner: str = typer.Option(
        ..., "--partner", help="The partner code (partnerhub partners list)."
    ),
    expires: str = typer.Option(
        None, "--expires", help="Expiry: a date (2027-06-30), an ISO timestamp, or days (90d)."
    ),
    scope: list[Scope] = typer.Option(
        [Scope.EVENTS, Scope.KOBO], "--scope", help="What the token may do (repeatable)."
    ),
    data_dir: Path | None = DATA_DIR,
) -> None:
    """Create a token for a partner; it is shown once, here, and never again."""
    hub, store = _store(data_dir)
    if partner not in hub.registry():
        raise CliError(f"partner {partner!r} is not in the partner registry (partners list)")
    now = utc_now()
    token, info = store.create(
        partner, now=now, expires_at=parse_expiry(expires, now), scopes=tuple(scope)
    )
    console.print(
        f"token {info.token_id} for {partner} ({', '.join(info.scopes)})", highlight=False
    )
    console.print(f"  expires  {info.expires_at.isoformat() if info.expires_at else 'never'}")
    console.print("  [bold]copy it now, it is not shown again:[/]")
    print(token)  # plain, so that scripts can capture it


def parse_expiry(text: str | None, now: datetime) -> datetime | None:
    """``90d``, ``2027-06-30`` (end of that day, UTC) or an ISO timestamp; None for never."""
    if text is None:
        return None
    text = text.strip()
    if text.endswith("d") and text[:-1].isdigit():
        return now + timedelta(days=int(text[:-1]))
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise CliError(f"--expires {text!r}: give a date, an ISO timestamp or days (90d)") from None
    if len(text) == 10:  # a date: valid through that day
        value = value + timedelta(days=1)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


@tokens_app.command("list")
def list_cmd(
    partner: str = typer.Option(None, "--partner", help="Only this partner's."),
    data_dir: Path | None = DATA_DIR,
) -> None:
    """Show every token (id, partner, scopes, state); never the secrets, which are not kept."""
    _, store = _store(data_dir)
    now = utc_now()
    table = Table("id", "partner", "scopes", "created", "expires", "state", title="Gateway tokens")
    for t in store.tokens(partner):
        table.add_row(
            t.token_id,
            t.partner_id,
            " ".join(t.scopes),
            t.created_at.isoformat(timespec="seconds"),
            t.expires_at.isoformat(timespec="seconds") if t.expires_at else "never",
            t.state(now),
        )
    console.print(table)


@tokens_app.command("revoke")
def revoke(
    token_id: str = typer.Argument(..., help="The token's id (tokens list)."),
    data_dir: Path | None = DATA_DIR,
) -> None:
    """Revoke a token: its next request is refused (401)."""
    _, store = _store(data_dir)
    info = store.revoke(token_id, now=utc_now())
    console.print(f"token {info.token_id} of {info.partner_id} revoked")
    if State.verbose:
        console.print(f"  revoked at {info.revoked_at}")


@kobo_app.command("check")
def kobo_check(
    mapping: Path = typer.Argument(..., exists=True, dir_okay=False, help="The form's YAML."),
    submission: Path = typer.Argument(
        ..., exists=True, dir_okay=False, help="A submission as KoboToolbox sends it (JSON)."
    ),
    data_dir: Path | None = DATA_DIR,
) -> None:
    """Show the event a submission becomes, or every reason it cannot become one."""
    hub = settings(data_dir)
    form = load_mapping(mapping)
    try:
        data = json.loads(submission.read_bytes())
    except ValueError as error:
        raise CliError(f"{submission}: not JSON: {error}") from None
    if not isinstance(data, dict):
        raise CliError(f"{submission}: a submission is one JSON object")
    registry = hub.registry()
    partner = registry.get(form.partner)
    if partner is None:
        raise CliError(f"{mapping}: partner {form.partner!r} is not in the partner registry")
    try:
        identity = kobo_identity(None, form.form, data)
        event = to_event(form, data, identity)
        check(event, partner, registry, now=utc_now())
    except InvalidEvent as invalid:
        console.print(f"[red]rejected[/]: {submission} (it would be kept as a dead letter)")
        for reason in invalid.reasons:
            console.print(f"  {reason.field or '<submission>'}: {reason.code}: {reason.message}")
        raise typer.Exit(1) from None
    console.print(
        f"[green]valid[/]: {form.kind.value} event for {form.partner}, revision {identity.revision}"
    )
    console.print_json(json.dumps(event))

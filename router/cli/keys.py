"""``paretoroute keys create|list|show|revoke``: manage virtual keys in the database.

The commands work on the database directly (``PARETOROUTE_DATABASE_URL``, default the
SQLite file in ``PARETOROUTE_DATA_DIR``), so they need the same settings as the server
and no running server; the server sees a new key at once and a revocation within
``PARETOROUTE_KEY_CACHE_S``. Over HTTP the same operations are ``/admin/keys``.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from router.auth.keys import VirtualKey
    from router.auth.store import KeyStore

keys_app = typer.Typer(help="Virtual keys for callers (auth is on with PARETOROUTE_MASTER_KEY).")


def _store() -> KeyStore:
    from router.auth.store import KeyStore, database_url
    from router.settings import Settings

    settings = Settings()
    return KeyStore(database_url(settings.data_dir, settings.database_url))


def _describe(key: VirtualKey, secret: str | None = None) -> dict[str, object]:
    shown: dict[str, object] = {
        "id": key.id,
        "name": key.name,
        "hint": key.hint,
        **key.limits.model_dump(exclude_none=True),
        "created_at": key.created_at.isoformat(),
        "revoked_at": key.revoked_at.isoformat() if key.revoked_at else None,
    }
    if secret is not None:
        shown["key"] = secret
    return shown


def _csv(value: str | None) -> list[str] | None:
    return [part.strip() for part in value.split(",") if part.strip()] if value else None


@keys_app.command("create")
def create(
    name: Annotated[str, typer.Argument(help="A label for the key's owner")],
    models: Annotated[str | None, typer.Option(help="Allowed models, comma-separated")] = None,
    profiles: Annotated[str | None, typer.Option(help="Allowed profiles, comma-separated")] = None,
    budget_day: Annotated[float | None, typer.Option(help="USD per UTC day")] = None,
    budget_month: Annotated[float | None, typer.Option(help="USD per UTC month")] = None,
    rpm: Annotated[int | None, typer.Option(help="Requests per minute")] = None,
    tpm: Annotated[int | None, typer.Option(help="Tokens per minute")] = None,
    parallel: Annotated[int | None, typer.Option(help="Max parallel requests")] = None,
) -> None:
    """Create a key and print it once (as JSON); only its hash is stored."""
    from router.auth.keys import KeySpec

    spec = KeySpec(
        name=name,
        allowed_models=_csv(models),
        allowed_profiles=_csv(profiles),
        budget_usd_per_day=budget_day,
        budget_usd_per_month=budget_month,
        rpm=rpm,
        tpm=tpm,
        max_parallel=parallel,
    )
    store = _store()
    key, secret = store.create(spec)
    typer.echo(json.dumps(_describe(key, secret), indent=2))


@keys_app.command("list")
def list_command(
    revoked: Annotated[bool, typer.Option("--revoked", help="Include revoked keys")] = False,
) -> None:
    """List keys (one JSON object per line), never their secrets."""
    store = _store()
    for key in store.list_keys(include_revoked=revoked):
        typer.echo(json.dumps(_describe(key)))


@keys_app.command("show")
def show(key_id: Annotated[str, typer.Argument(help="Key id (key_...)")]) -> None:
    """Show one key's limits and times (spend: ``GET /admin/keys/<id>``)."""
    store = _store()
    key = store.get(key_id)
    if key is None:
        typer.echo(f"no key with id {key_id!r}", err=True)
        raise typer.Exit(1)
    typer.echo(json.dumps(_describe(key), indent=2))


@keys_app.command("revoke")
def revoke(key_id: Annotated[str, typer.Argument(help="Key id (key_...)")]) -> None:
    """Revoke a key."""
    store = _store()
    key = store.revoke(key_id)
    if key is None:
        typer.echo(f"no key with id {key_id!r}", err=True)
        raise typer.Exit(1)
    typer.echo(json.dumps(_describe(key)))

"""`smati tokens`: the HTTP API's bearer tokens, one tenant each; a token's text is shown
once, at its creation, and only its digest is stored."""

from __future__ import annotations

from datetime import datetime

import click

from smati.context import settings_of
from smati.database import migrated_database
from smati.tables import echo_json, json_option, table
from smati.times import shown

__all__ = ["tokens"]


@click.group()
def tokens() -> None:
    """Bearer tokens of the HTTP API (`smati serve`): each sees only its tenant's alarms."""


@tokens.command("create")
@click.option("--tenant", required=True, help="the tenant whose alarms the token reaches")
@click.option("--name", required=True, help="whom it is for: the actor of its acks and clears")
@click.option("--by", envvar="USER", required=True, help="who issues it [env USER]")
@click.pass_context
def tokens_create(ctx: click.Context, tenant: str, name: str, by: str) -> None:
    """Issue a token and print it (on stdout, alone); it cannot be shown again."""
    from storage.tokens import create_token

    with migrated_database(settings_of(ctx)) as conn:
        stored, token = create_token(conn, tenant, name, by)
    click.echo(token.text)
    click.echo(
        f"token {stored.id} ({stored.name}) for tenant {stored.tenant_id}: keep it secret, "
        "it is not stored and will not be shown again",
        err=True,
    )


@tokens.command("list")
@click.option("--tenant", help="only this tenant's tokens")
@json_option
@click.pass_context
def tokens_list(ctx: click.Context, tenant: str | None, as_json: bool) -> None:
    """Tokens issued, revoked ones too (times in UTC); never their text."""
    from dataclasses import asdict

    from storage.tokens import list_tokens

    with migrated_database(settings_of(ctx)) as conn:
        found = list_tokens(conn, tenant)
    if as_json:
        echo_json([asdict(token) for token in found])
        return
    if not found:
        click.echo("none found", err=True)
        return
    header = ("ID", "TENANT", "NAME", "CREATED", "BY", "REVOKED")
    rows = [
        (t.id, t.tenant_id, t.name, shown(t.created_at), t.created_by, _when(t.revoked_at))
        for t in found
    ]
    click.echo(table(header, rows))


@tokens.command("revoke")
@click.argument("token_id")
@click.pass_context
def tokens_revoke(ctx: click.Context, token_id: str) -> None:
    """Revoke a token by its id (`smati tokens list`): refused from the next request on."""
    from storage.tokens import revoke_token

    with migrated_database(settings_of(ctx)) as conn:
        revoked = revoke_token(conn, token_id)
    click.echo(f"token {revoked.id} ({revoked.name}) of tenant {revoked.tenant_id} revoked")


def _when(moment: datetime | None) -> str:
    return "-" if moment is None else shown(moment)

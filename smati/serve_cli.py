"""`smati serve`: the HTTP API (api/) under uvicorn, on loopback unless told otherwise."""

from __future__ import annotations

import click

from smati.context import settings_of

__all__ = ["serve"]


@click.command()
@click.option("--host", help="bind address [env SMATI_API_HOST, default 127.0.0.1]")
@click.option(
    "--port", type=click.IntRange(0, 65535), help="port [env SMATI_API_PORT, default 8080]"
)
@click.pass_context
def serve(ctx: click.Context, host: str | None, port: int | None) -> None:
    """Serve the HTTP API: alarms of the tenant of each request's bearer token (`smati
    tokens create`), their counts, cleansing and gap filling of its usages, /health; its
    OpenAPI spec at /openapi.json, read at /docs; the cleansing review page at /review.
    Stops on Ctrl-C or SIGTERM."""
    import uvicorn

    from api.app import build_app
    from models.errors import SmatiError
    from services.chart_packages import chart_assets
    from services.ports import port_is_open
    from smati.database import wait_for_database

    settings = settings_of(ctx)
    url = settings.database_url.get_secret_value()
    wait_for_database(url, settings.database_wait_s)  # and refuse a schema not migrated
    host = host or settings.api_host
    port = settings.api_port if port is None else port
    if port_is_open(host, port):  # uvicorn would only log it, and exit
        raise SmatiError(
            f"port {port} on {host} is taken: give SMATI_API_PORT or --port another "
            "(0 picks a free one)"
        )
    config = uvicorn.Config(
        build_app(url, chart_folder=chart_assets()),
        host=host,
        port=port,
        log_config=None,  # the records go through SMATI's logging (JSON or console)
    )
    uvicorn.Server(config).run()

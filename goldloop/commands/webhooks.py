"""``goldloop webhooks serve``: the signed-webhook receiver that fills the inbox."""

from __future__ import annotations

from typing import Annotated

import typer

from goldloop.settings import load_settings

app = typer.Typer(help="Webhooks from the systems: verified, stored once in the inbox, "
                  "drained by Dagster's inbox sensor.", no_args_is_help=True)


@app.callback()
def webhooks() -> None:
    """Webhooks from the systems into the inbox."""


@app.command()
def serve(
    port: Annotated[int, typer.Option(help="Port to listen on")] = 18110,
    host: Annotated[str, typer.Option(help="Interface to listen on")] = "127.0.0.1",
    public_url: Annotated[str | None, typer.Option(
        help="The URL the vendors call, when a proxy rewrites it (HubSpot signs the URL)")]
    = None,
    sandbox: Annotated[bool, typer.Option(
        "--sandbox", help="Use the local sandbox's webhook secrets (demo)")] = False,
) -> None:
    """Receive HubSpot, Shopify and Xero webhooks into the inbox (never processed inline)."""
    import uvicorn

    from orchestration.state import describe
    from orchestration.webhooks.receiver import (
        WebhookSecrets,
        create_app,
        inbox_store,
        secrets_from_dlt,
    )

    settings = load_settings()
    if sandbox:
        from sandbox.config import SandboxConfig

        creds = SandboxConfig.load(settings.sandbox_dir).credentials
        secrets = WebhookSecrets(creds.crm_client_secret, creds.shop_webhook_secret,
                                 creds.erp_webhook_key)
    else:
        secrets = secrets_from_dlt()
    for key in secrets.missing():
        typer.echo(f"  warning: {key} is not set: those webhooks will be refused (401)",
                   err=True)
    typer.echo(f"  webhooks on http://{host}:{port}/webhooks → inbox in {describe(settings)}",
               err=True)
    app_ = create_app(inbox_store(settings), secrets, public_url=public_url)
    uvicorn.run(app_, host=host, port=port, log_level="warning", access_log=False)

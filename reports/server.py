"""Run the report site: on loopback by default; anywhere else only behind an access token."""

from __future__ import annotations

import ipaddress
from pathlib import Path

from goldloop.errors import ConfigError
from goldloop.settings import Settings
from reports.site import DEFAULT_DBT_TARGET

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8780
TOKEN_ENV = "GOLDLOOP_REPORT_TOKEN"
MIN_TOKEN_LENGTH = 12


def is_loopback(host: str) -> bool:
    """Whether ``host`` only listens on this machine.

    >>> is_loopback("127.0.0.1"), is_loopback("localhost"), is_loopback("::1")
    (True, True, True)
    >>> is_loopback("0.0.0.0"), is_loopback("192.168.1.5"), is_loopback("example.com")
    (False, False, False)
    """
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_bind(host: str, token: str | None) -> str | None:
    """The token to require, after refusing an exposed address without a usable one.

    >>> check_bind("127.0.0.1", None) is None
    True
    >>> check_bind("0.0.0.0", "x" * 16) == "x" * 16
    True
    """
    token = (token or "").strip() or None
    if token is not None and len(token) < MIN_TOKEN_LENGTH:
        raise ConfigError(f"{TOKEN_ENV} is too short ({len(token)} characters)",
                          hint=f"use at least {MIN_TOKEN_LENGTH} random characters, e.g. "
                               "`openssl rand -hex 16`")
    if not is_loopback(host) and token is None:
        raise ConfigError(
            f"refusing to serve the reports on {host}: the pages show customer data and "
            f"{TOKEN_ENV} is not set",
            hint=f"set {TOKEN_ENV} to a long random secret, or serve on 127.0.0.1")
    return token


def serve(settings: Settings, *, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT,
          token: str | None = None, dbt_target: Path = DEFAULT_DBT_TARGET) -> None:
    """Serve the site until interrupted (``token``: required on every request)."""
    import uvicorn

    from reports.app import create_app

    required = check_bind(host, token)
    app = create_app(settings, dbt_target=dbt_target, token=required)
    uvicorn.run(app, host=host, port=port, log_level="warning", server_header=False)

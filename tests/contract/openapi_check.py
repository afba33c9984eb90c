"""Validate sandbox (and connector) traffic against the vendors' OpenAPI files.

Each system's contract test loads its spec with :func:`load_spec`, passing a ``patch`` function that
fixes the spec's known defects in a copy (see ../shared/specs/README.md); the originals stay
unchanged. :func:`check` then validates one request/response pair and returns readable problems.
"""

from __future__ import annotations

import functools
import json
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import yaml
from openapi_core import OpenAPI
from openapi_core.testing import MockRequest, MockResponse

# An unchanged copy of ../shared/specs, kept in the repository so a clean clone tests offline.
SPECS = Path(__file__).resolve().parent / "specs"

Patch = Callable[[dict[str, Any]], None]


def strip_key(node: Any, key: str) -> None:
    """Remove ``key`` everywhere in a JSON-like tree (e.g. HubSpot's ``example: null``)."""
    if isinstance(node, dict):
        node.pop(key, None)
        for value in node.values():
            strip_key(value, key)
    elif isinstance(node, list):
        for value in node:
            strip_key(value, key)


def rename_media_type(node: Any, old: str, new: str) -> None:
    """Rename a media type key everywhere (e.g. HubSpot's error response ``*/*`` to JSON, which
    validators otherwise treat as opaque bytes).

    >>> spec = {"responses": {"Error": {"content": {"*/*": {"schema": {}}}}}}
    >>> rename_media_type(spec, "*/*", "application/json"); spec["responses"]["Error"]
    {'content': {'application/json': {'schema': {}}}}
    """
    if isinstance(node, dict):
        content = node.get("content")
        if isinstance(content, dict) and old in content:
            content[new] = content.pop(old)
        for value in node.values():
            rename_media_type(value, old, new)
    elif isinstance(node, list):
        for value in node:
            rename_media_type(value, old, new)


@functools.cache
def _raw(path: str) -> str:
    return (SPECS / path).read_text()


def load_spec(path: str, patch: Patch | None = None, server: str | None = None) -> OpenAPI:
    """Parse ``specs/<path>``, apply ``patch`` to a copy, and point its servers at ``server``."""
    text = _raw(path)
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # the C parser: 3x faster on Xero
    spec: dict[str, Any] = json.loads(text) if path.endswith(".json") else yaml.load(text, loader)
    if patch is not None:
        patch(spec)
    _drop_empty_content(spec)
    if server is not None:
        spec["servers"] = [{"url": server}]
    return OpenAPI.from_dict(spec)


def _drop_empty_content(spec: dict[str, Any]) -> None:
    """Remove ``content: {}`` (no body, e.g. HubSpot's 204s) from responses: openapi-core
    would otherwise demand a body."""
    responses: list[Any] = list(spec.get("components", {}).get("responses", {}).values())
    for item in spec.get("paths", {}).values():
        for operation in item.values():
            if isinstance(operation, dict):
                responses += list(operation.get("responses", {}).values())
    for response in responses:
        if isinstance(response, dict) and response.get("content") == {}:
            del response["content"]


def _mock_request(request: httpx.Request, host_url: str, path_prefix: str) -> MockRequest:
    parts = urlsplit(str(request.url))
    path = parts.path[len(path_prefix):] if path_prefix else parts.path
    args = {k: v[0] if len(v) == 1 else v for k, v in parse_qs(parts.query).items()}
    return MockRequest(
        host_url, request.method.lower(), path, args=args, headers=dict(request.headers),
        data=request.content or None,
        content_type=request.headers.get("content-type", "application/json").split(";")[0],
    )


def check(api: OpenAPI, response: httpx.Response, *, host_url: str, path_prefix: str = "",
          request_only: bool = False) -> list[str]:
    """Problems with one exchange (empty when both the request and response match the spec).

    ``host_url`` is the server URL set with :func:`load_spec`; ``path_prefix`` is removed from the
    request path before matching when the spec's paths omit it.
    """
    request = _mock_request(response.request, host_url, path_prefix)
    with warnings.catch_warnings():
        # openapi-core cannot check OAuth2 security schemes and warns on every request
        warnings.filterwarnings("ignore", "Unsupported scheme type", UserWarning)
        problems = [f"request: {err}" for err in api.iter_request_errors(request)]
        if not request_only:
            mock = MockResponse(
                response.content, status_code=response.status_code,
                headers=dict(response.headers),
                content_type=response.headers.get("content-type",
                                                  "application/json").split(";")[0],
            )
            problems += [f"response: {err}" for err in api.iter_response_errors(request, mock)]
    return [_explain(p) for p in problems]


def _explain(problem: str) -> str:
    return problem[:2000]

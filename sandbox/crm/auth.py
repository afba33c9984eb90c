"""Private-app bearer tokens and their scopes (from the sandbox's credentials).

>>> from sandbox.config import Credentials
>>> creds = Credentials()
>>> sorted(token_scopes(creds, f"Bearer {creds.crm_readonly_token}"))[:2]
['crm.objects.companies.read', 'crm.objects.contacts.read']
>>> check_scopes({"crm.objects.contacts.read"}, ("crm.objects.contacts.read",))
>>> check_scopes({"crm.objects.contacts.read"}, ("crm.objects.contacts.write",))
Traceback (most recent call last):
...
sandbox.crm.errors.HubSpotError: This app hasn't been granted all required scopes to make this \
call. Read more about required scopes here: https://developers.hubspot.com/scopes.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterable

from sandbox.config import Credentials
from sandbox.crm.errors import HubSpotError

# HubSpot's legacy ``e-commerce`` scope covers products; the sandbox's read-only token carries
# it, so it only grants product writes to a token that holds some other write scope.
LEGACY_PRODUCT_SCOPE = "e-commerce"


def token_scopes(credentials: Credentials, authorization: str | None) -> set[str]:
    """The scopes of the bearer token in ``authorization``; 401 when missing or unknown."""
    if not authorization or not authorization.lower().startswith("bearer "):
        raise HubSpotError(
            401, "INVALID_AUTHENTICATION",
            "Authentication credentials not found. This API supports OAuth 2.0 authentication "
            "and you can find more details at https://developers.hubspot.com/docs/methods/auth/"
            "oauth-overview")
    token = authorization[7:].strip()
    for known, scopes in ((credentials.crm_token, credentials.crm_token_scopes),
                          (credentials.crm_readonly_token, credentials.crm_readonly_scopes)):
        if hmac.compare_digest(token.encode(), known.encode()):
            return set(scopes)
    raise HubSpotError(
        401, "INVALID_AUTHENTICATION",
        "The OAuth token used to make this call expired or is not valid: "
        "check the private app's access token.", sub_category="INVALID_OAUTH_TOKEN")


def check_scopes(granted: set[str], any_of: Iterable[str]) -> None:
    """Pass when ``granted`` holds one of ``any_of``; otherwise 403 ``MISSING_SCOPES``."""
    needed = list(any_of)
    for scope in needed:
        if scope not in granted:
            continue
        if scope == LEGACY_PRODUCT_SCOPE and any(s.endswith(".write") for s in needed) and \
                not any(s.endswith(".write") for s in granted):
            continue
        return
    raise HubSpotError(
        403, "MISSING_SCOPES",
        "This app hasn't been granted all required scopes to make this call. Read more about "
        "required scopes here: https://developers.hubspot.com/scopes.",
        errors=[{"message": f"One or more of the following scopes are required: {needed}",
                 "context": {"requiredGranularScopes": needed}}],
        context={"requiredGranularScopes": needed})

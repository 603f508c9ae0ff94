"""OAuth 1.0a verification as ``Magento\\Framework\\Oauth`` does it (integrations signing requests).

Magento's quirks are reproduced: the query string is split on ``&`` and ``=`` and ``rawurldecode``d (so ``+`` stays
a literal plus and a value containing ``=`` is left out of the signed set), duplicate keys collapse, a JSON body is
not signed, only HMAC-SHA256 is supported, the nonce is recorded before the signature is checked, and a timestamp
more than 600 s in the future is refused.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from urllib.parse import parse_qsl, quote, unquote

from magento_zoho_sims.magento.auth import AuthState, Principal, integration_principal
from magento_zoho_sims.magento.config import MagentoConfig
from magento_zoho_sims.magento.errors import MagentoError, required

REQUIRED = ("oauth_consumer_key", "oauth_signature", "oauth_signature_method", "oauth_nonce", "oauth_timestamp")


def is_oauth(header: str | None) -> bool:
    return bool(header) and header[:5].lower() == "oauth"  # type: ignore[index]


def rawurlencode(value: str) -> str:
    return quote(value, safe="-._~")


def header_params(header: str) -> dict[str, str]:
    """``_extractHeaderParams``: drop the scheme, split on ``,``, keep ``oauth_*``, rawurldecode, strip quotes."""
    params: dict[str, str] = {}
    for part in header[6:].split(","):
        name, sep, value = part.strip().partition("=")
        if not sep or not name.startswith("oauth_"):
            continue
        params[unquote(name)] = unquote(value.strip('"'))
    return params


def query_params(query: str) -> dict[str, str]:
    """``_processRequest``'s query handling: ``explode('&')``, ``explode('=')``, exactly two parts, rawurldecode."""
    params: dict[str, str] = {}
    if not query:
        return params
    for pair in query.split("&"):
        parts = pair.split("=")
        if len(parts) == 2 and not parts[0].startswith("oauth_"):
            params[unquote(parts[0])] = unquote(parts[1])
    return params


def base_string(method: str, url: str, params: dict[str, str]) -> str:
    encoded = {rawurlencode(k): rawurlencode(v) for k, v in params.items() if k != "oauth_signature"}
    normalized = "&".join(f"{k}={encoded[k]}" for k in sorted(encoded))
    return "&".join((method.upper(), rawurlencode(url), rawurlencode(normalized)))


def sign(method: str, url: str, params: dict[str, str], consumer_secret: str, token_secret: str) -> str:
    key = f"{rawurlencode(consumer_secret)}&{rawurlencode(token_secret)}".encode()
    digest = hmac.new(key, base_string(method, url, params).encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def normalized_url(scheme: str, host: str, path: str) -> str:
    host = host.lower()
    if (scheme == "http" and host.endswith(":80")) or (scheme == "https" and host.endswith(":443")):
        host = host.rsplit(":", 1)[0]
    return f"{scheme.lower()}://{host}{path}"


def verify(
    *,
    config: MagentoConfig,
    auth: AuthState,
    method: str,
    url: str,
    query: str,
    header: str,
    content_type: str,
    body: bytes,
) -> Principal:
    """Validate an OAuth-signed request; raise the error Magento answers, or return the integration."""
    params: dict[str, str] = {}
    if content_type.startswith("application/x-www-form-urlencoded"):
        params.update(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
    params.update(query_params(query))
    params.update(header_params(header))
    if "oauth_version" in params and params["oauth_version"] != "1.0":
        raise MagentoError(401, 'The "%1" Oauth version isn\'t supported.', [params["oauth_version"]])
    for name in (*REQUIRED, "oauth_token"):
        if not params.get(name):
            raise required(name)
    if len(params["oauth_token"]) != 32:
        raise MagentoError(400, "The token length is invalid. Check the length and try again.")
    if params["oauth_signature_method"] != "HMAC-SHA256":
        raise MagentoError(400, "Signature method %1 is not supported", [params["oauth_signature_method"]])
    consumer_key = params["oauth_consumer_key"]
    if len(consumer_key) != 32:
        raise MagentoError(401, "Consumer key is not the correct length")
    integration = next((i for i in config.integrations if i.consumer_key == consumer_key), None)
    if integration is None:
        raise MagentoError(401, "A consumer having the specified key does not exist")
    try:
        timestamp = int(params["oauth_timestamp"])
    except ValueError:
        timestamp = 0
    if timestamp <= 0 or timestamp > auth.clock.now() + config.oauth_max_future_skew:
        raise MagentoError(400, "Incorrect timestamp value in the oauth_timestamp parameter")
    if not auth.use_nonce(integration.consumer_id, params["oauth_nonce"]):
        raise MagentoError(401, "The nonce is already being used by the consumer with ID %1", [integration.consumer_id])
    if params["oauth_token"] != integration.access_token:
        raise MagentoError(401, "A token with the specified ID wasn't found")
    if integration.revoked:
        raise MagentoError(401, "Access token has been revoked")
    expected = sign(method, url, params, integration.consumer_secret, integration.access_token_secret)
    if not hmac.compare_digest(expected.encode(), params["oauth_signature"].encode()):
        raise MagentoError(401, "The signature is invalid. Verify and try again.")
    return integration_principal(integration)

"""Redaction: registered secrets, token shapes and secret key=value pairs never reach logs or reports."""

from __future__ import annotations

import io
import json
import logging
import re
import sqlite3
import urllib.parse
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from pydantic import SecretStr

from magento_zoho_sync import redact
from magento_zoho_sync.redact import RedactingFilter, configure_logging, register_secret

ZOHO_TOKEN = "1000.0123456789abcdef0123456789abcdef.fedcba9876543210fedcba9876543210"


@pytest.fixture(autouse=True)
def _registry() -> Iterator[None]:
    redact.clear_secrets()
    yield
    redact.clear_secrets()


def test_registered_secrets_are_masked() -> None:
    register_secret("s3cr3t-pass")
    register_secret(SecretStr("another-secret"))
    register_secret(None)
    assert redact.redact("login with s3cr3t-pass failed; another-secret!") == "login with *** failed; ***!"


def test_longest_secret_masked_whole() -> None:
    register_secret("abcd")
    register_secret("abcdefgh")
    assert redact.redact("x abcdefgh y abcd") == "x *** y ***"


def test_short_values_are_not_registered() -> None:
    register_secret("abc")
    assert redact.redact("abc abcabc") == "abc abcabc"


def test_special_characters_in_secret() -> None:
    register_secret('p@ss.w*rd(1)"\\')
    assert redact.redact('pw=p@ss.w*rd(1)"\\ end') == "pw=*** end"


def test_zoho_token_shape() -> None:
    assert redact.redact(f"token {ZOHO_TOKEN} expired") == "token *** expired"
    assert redact.redact("version 1000.5 is fine") == "version 1000.5 is fine"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("password=hunter22&user=bob", "password=***&user=bob"),
        ('{"client_secret": "abc123", "x": 1}', '{"client_secret": "***", "x": 1}'),
        ("refresh_token: rt-value other", "refresh_token: *** other"),
        ("Authorization: Bearer eyJhbGciOi.payload", "Authorization: Bearer ***"),
        ("Authorization: Zoho-oauthtoken abc.def", "Authorization: Zoho-oauthtoken ***"),
        ("oauth_signature=abc%3D&oauth_nonce=1", "oauth_signature=***&oauth_nonce=1"),
        ("ACCESS_TOKEN='tok-1'", "ACCESS_TOKEN='***'"),
        ("Authorization: Basic dXNlcjpwYXNz", "Authorization: Basic ***"),
        ('Authorization: OAuth oauth_consumer_key="ck", oauth_signature="sig"', "Authorization: OAuth ***"),
    ],
)
def test_secret_keys_are_scrubbed(text: str, expected: str) -> None:
    assert redact.redact(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        '{"code": "INVALID_DATA", "status": "error"}',
        '"token_type": "Bearer"',
        "customer 17 <jane@example.com> MISSING_LAST_NAME",
        "basic checks passed; OAuth signing ready",
        "",
    ],
)
def test_harmless_text_is_untouched(text: str) -> None:
    assert redact.redact(text) == text


def make_logger(stream: io.StringIO) -> logging.Logger:
    logger = logging.getLogger(f"test_redact.{id(stream)}")
    logger.propagate = False
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactingFilter())
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    return logger


def test_filter_masks_message_and_args() -> None:
    register_secret("canary-password")
    stream = io.StringIO()
    logger = make_logger(stream)
    logger.info("login %s with %s", "bob", "canary-password")
    logger.info({"refresh_token": ZOHO_TOKEN})
    logger.info("bad format %s %s", "only-one")  # noqa: PLE1206 - a broken call must not hide the record
    out = stream.getvalue()
    assert "canary-password" not in out
    assert ZOHO_TOKEN not in out
    assert "login bob with ***" in out
    assert "bad format" in out


def test_filter_masks_tracebacks() -> None:
    register_secret("canary-in-exception")
    stream = io.StringIO()
    logger = make_logger(stream)
    try:
        raise RuntimeError("failed with canary-in-exception")
    except RuntimeError:
        logger.exception("boom")
    out = stream.getvalue()
    assert "RuntimeError: failed with ***" in out
    assert "canary-in-exception" not in out


def test_configure_logging(capsys: pytest.CaptureFixture[str]) -> None:
    root = logging.getLogger()
    old_level = root.level
    try:
        configure_logging(verbose=False)
        handler = configure_logging(verbose=True)  # idempotent: replaces, does not stack
        ours = [h for h in root.handlers if h.get_name() == handler.get_name()]
        assert ours == [handler]
        assert any(isinstance(f, RedactingFilter) for f in handler.filters)
        assert root.level == logging.DEBUG
        for name in ("httpx2", "httpcore2"):
            assert logging.getLogger(name).level == logging.WARNING
        register_secret("canary-configured")
        logging.getLogger("magento_zoho_sync.test").warning("secret is canary-configured")
        err = capsys.readouterr().err
        assert "secret is ***" in err
        assert "canary-configured" not in err
        configure_logging(verbose=False)
        assert root.level == logging.INFO
    finally:
        for h in list(root.handlers):
            if h.get_name() == "magento_zoho_sync.stderr":
                root.removeHandler(h)
        root.setLevel(old_level)


secret_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Zs", "Cc"), blacklist_characters="*"), min_size=4, max_size=30
)


@settings(max_examples=200, deadline=None)
@given(secret=secret_text, before=st.text(max_size=30), after=st.text(max_size=30))
def test_a_registered_secret_never_survives(secret: str, before: str, after: str) -> None:
    redact.clear_secrets()
    register_secret(secret)
    assert secret not in redact.redact(before + secret + after)


def test_redact_data_keeps_structure() -> None:
    register_secret("canary-value")
    data = {"a": "x canary-value", "Client_Secret": "abc", "n": 3, "l": ("canary-value", None), "password": None}
    assert redact.redact_data(data) == {
        "a": "x ***",
        "Client_Secret": "***",
        "n": 3,
        "l": ["***", None],
        "password": None,
    }


def test_oauthlib_debug_lines_never_show_even_with_verbose(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging(verbose=True)
    # oauthlib writes the OAuth 1.0a signature base string (which holds the access token) at debug level
    # (masking might miss a signature or a base string's encoding: the lines are not written at all)
    logging.getLogger("oauthlib.oauth1.rfc5849").debug("Base signing string follows")
    assert "Base signing string" not in capsys.readouterr().err


def test_log_lines_into_a_file_carry_the_time(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging(verbose=False)  # stderr is captured here: not a terminal, as under cron or systemd
    logging.getLogger("magento_zoho_sync").info("progress: read 10")
    line = capsys.readouterr().err.strip()
    assert re.match(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} INFO: progress: read 10$", line), line


@pytest.mark.parametrize(
    "encode",
    [
        lambda s: json.dumps({"username": "admin", "password": s}),  # a server echoing the login body
        lambda s: json.dumps({"password": s}, ensure_ascii=False),
        lambda s: json.dumps({"password": s}).replace("/", "\\/"),  # PHP's json_encode
        lambda s: "password=" + urllib.parse.quote_plus(s),
        lambda s: "/login?p=" + urllib.parse.quote(s, safe=""),
    ],
)
def test_a_secret_is_masked_in_its_escaped_and_encoded_forms_too(encode: Any) -> None:
    """A password holding a quote: the "password" rule stopped at its escaped quote and the rest was shown."""
    secret = 'S3CRET-PASS-"quote/back\\slash-ü-TAILLEAK'
    register_secret(secret)
    masked = redact.redact(f"HTTP 401: Login failed for {encode(secret)}")
    assert "TAILLEAK" not in masked and "S3CRET" not in masked, masked


def test_a_state_file_error_is_said_in_the_report_as_on_the_terminal() -> None:
    """A full disk under the state file: the report and `runs` said "Unexpected OperationalError", like a bug."""
    reason = redact.stop_reason(sqlite3.OperationalError("database or disk is full"))
    assert "disk is full or failing" in reason and "Free some space" in reason and "Unexpected" not in reason


def _lower_hex(encoded: str) -> str:
    return re.sub(r"%[0-9A-F]{2}", lambda m: m.group().lower(), encoded)


URL_SECRET = 'S3cret pass/~*!(x)ü+"&=LEAK9'


@pytest.mark.parametrize(
    "encode",
    [
        lambda s: _lower_hex(urllib.parse.quote(s, safe="")),  # a proxy echoing the URL with lowercase hex
        lambda s: _lower_hex(urllib.parse.quote_plus(s, safe="")),  # a form body: + for a space, lowercase hex
        lambda s: urllib.parse.quote(s, safe="").replace("%2F", "%2f"),  # both cases in one value
        urllib.parse.quote,  # quote's default: "/" left as it is
        lambda s: urllib.parse.quote_plus(s, safe="*").replace("~", "%7e"),  # a browser's form: "*" kept, "~" encoded
        lambda s: _lower_hex(urllib.parse.quote(s, safe="!'()*~")),  # JavaScript's encodeURIComponent
        lambda s: urllib.parse.quote(s, safe="").replace("%20", "+"),  # %-encoding with + for the space
        lambda s: _lower_hex(urllib.parse.quote(s, safe="", encoding="utf-8")).replace("%c3%bc", "ü"),  # ü raw
    ],
)
def test_a_secret_is_masked_in_other_url_encodings(encode: Any) -> None:
    """quote() writes %2F; a server or a proxy echoing a URL or a form body may write %2f, or encode less."""
    register_secret(URL_SECRET)
    encoded = encode(URL_SECRET)
    masked = redact.redact(f"HTTP 400 for /login?password={encoded}&next=1 (body: user=a&pw={encoded})")
    assert "LEAK9" not in masked and "S3cret" not in masked, masked


@settings(max_examples=200, deadline=None)
@given(secret=secret_text, data=st.data())
def test_a_secret_is_masked_whatever_characters_are_percent_encoded(secret: str, data: st.DataObject) -> None:
    assume(secret == secret.strip())  # register_secret strips a secret
    redact.clear_secrets()
    register_secret(secret)
    written = ""
    for char in secret:
        if (char.isascii() and char.isalnum()) or not data.draw(st.booleans()):
            written += char
            continue
        hex_digits = "".join(f"%{byte:02X}" for byte in char.encode("utf-8", "surrogatepass"))
        written += _lower_hex(hex_digits) if data.draw(st.booleans()) else hex_digits
    assert redact.redact(f"\n{written}\n") == f"\n{redact.MASK}\n"  # no character of a secret is a control


def test_the_secret_itself_is_still_matched_with_its_letter_case() -> None:
    register_secret("Secret/Pass-1")
    assert redact.redact("Secret%2fPass-1") == "***"
    assert redact.redact("SECRET/PASS-1 secret%2fpass-1") == "SECRET/PASS-1 secret%2fpass-1"

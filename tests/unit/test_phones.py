"""The ``phone`` transform: Magento telephones as Zoho's published phone pattern takes them."""

from __future__ import annotations

import re
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from magento_zoho_sync.mapping import map_customer
from magento_zoho_sync.mapping_config import TRANSFORMS, build_spec
from magento_zoho_sync.phones import _PLAIN, ZOHO_PHONE, clean_phone


@pytest.mark.parametrize(
    ("typed", "sent"),
    [
        ("+49 30 1234567", "+49 30 1234567"),  # taken as it is
        ("555-1234 ext. 12", "555-1234 ext. 12"),
        ("555.123.4567", "555.123.4567"),
        ("0800-FLOWERS", "0800-FLOWERS"),
        ("  5551234 ", "5551234"),
        ("030/1234567", "030 1234567"),
        ("(555) 123-4567", "555 123-4567"),
        ("+44 (0)20 7946 0958", "+44 20 7946 0958"),
        ("+31 (0) 6-12345678", "+31 6-12345678"),
        ("+49 (0) 30 / 123 45-67", "+49 30 123 45-67"),
        ("(0)30 1234", "0 30 1234"),  # a trunk 0 is dropped only after a country code
        ("+49-30-123 #45", "+49-30-123 x45"),
        ("0049 (0)30 1234", "0049 30 1234"),  # and after a 00 prefix
        ("\uff0b\uff18\uff11 \uff13 \uff11\uff12\uff13\uff14", "+81 3 1234"),  # full-width (a Japanese keyboard)
        ("\u200e+49 30 1234", "+49 30 1234"),  # an invisible left-to-right mark pasted with it
        ("+44 20 7946 0958 / +44 20 7946 0959", "+44 20 7946 0958"),  # two numbers: the first
        ("030 1234567, 0171 7654321", "030 1234567"),
        ("555 - 1234", "555-1234"),
        ("123*45", "123 45"),
        ("++49 30", "+49 30"),
        ("(+49) 30 1234", "+49 30 1234"),
        ("Tel.: +49 30 12345", "+49 30 12345"),
        ("Mobile: 0171 1234", "0171 1234"),
        ("+1 555 123 4567;ext=2", "+1 555 123 4567 ext 2"),
        ("555-1234;12", "555-1234;12"),  # a pause and an extension: one number
        ("٠١٢٣ ٤٥", "0123 45"),  # other scripts' digits
        ("n/a", None),  # no digit: no phone
        ("-", None),
        ("", None),
    ],
)
def test_clean_phone(typed: str, sent: str | None) -> None:
    assert clean_phone(typed) == sent
    assert sent is None or ZOHO_PHONE.match(sent)


def test_the_transform_reads_text_and_whole_numbers_and_fails_anything_else() -> None:
    phone = TRANSFORMS["phone"]
    assert phone(None) is None
    assert phone(5551234) == "5551234"
    for value in (True, 1.5, ["555"], {"n": "555"}):
        with pytest.raises(ValueError, match="is not a phone number"):
            phone(value)


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet=st.sampled_from("0123456789 +-./()#*;,:xtTelAB٣\u00a0\t"), max_size=30) | st.text(max_size=30))
def test_whatever_is_typed_the_result_is_left_out_or_taken_by_zoho_and_keeps_the_digits(typed: str) -> None:
    sent = clean_phone(typed)
    if sent is None:
        return
    assert ZOHO_PHONE.match(sent), (typed, sent)
    assert clean_phone(sent) == sent  # a cleaned phone is taken as it is
    digits = re.sub(r"[^0-9]", "", sent)
    assert digits  # a phone has a digit
    normal = typed if typed.isascii() else unicodedata.normalize("NFKC", typed)
    typed_digits = re.sub(r"[^0-9]", "", "".join(str(int(c)) if c.isdecimal() else c for c in normal))
    rest = iter(typed_digits)
    assert all(d in rest for d in digits)  # digits in their order, none made up
    if re.search(r"\(\s*0\s*\)|[/|,;]|\b(or|oder|ou|o)\b", normal, re.IGNORECASE) is None:
        assert digits == typed_digits  # and all of them, unless a trunk (0) or a second number was dropped


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet=st.sampled_from("0123456789 +-.aZ/(#,;"), max_size=16))
def test_the_fast_check_of_usual_telephones_takes_only_what_zoho_takes(typed: str) -> None:
    if _PLAIN.fullmatch(typed):
        assert ZOHO_PHONE.match(typed)


@pytest.mark.parametrize("truncating", [False, True])
def test_a_phone_number_longer_than_its_field_is_never_cut(truncating: bool) -> None:
    spec = build_spec({}, truncate_long_values=truncating)
    long_phone = "+49 30 " + "1234 " * 6  # 37 characters, Zoho's Phone takes 30
    customer = {
        "id": 3,
        "email": "ann@example.com",
        "lastname": "Lee",
        "addresses": [{"id": 1, "default_billing": True, "telephone": long_phone, "city": "x" * 150}],
    }
    failure = map_customer(customer, spec)
    assert failure.code == "VALUE_TOO_LONG" and "Phone has 36 characters" in failure.message  # type: ignore[union-attr]
    if truncating:  # the city is cut; the phone is not
        assert "Mailing_City" not in failure.message and "a phone number is never cut" in failure.message  # type: ignore[union-attr]
    else:
        assert "(or set truncate_long_values)" in failure.message  # type: ignore[union-attr]

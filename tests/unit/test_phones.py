"""The ``phone`` transform: Magento telephones as Zoho's published phone pattern takes them."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from magento_zoho_sync.mapping_config import TRANSFORMS
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
        ("+49-30-123 #45", "+49-30-123 ext 45"),
        ("555 - 1234", "555-1234"),
        ("123*45", "123 45"),
        ("++49 30", "+49 30"),
        ("(+49) 30 1234", "+49 30 1234"),
        ("Tel.: +49 30 12345", "+49 30 12345"),
        ("Mobile: 0171 1234", "0171 1234"),
        ("+1 555 123 4567;ext=2", "+1 555 123 4567 ext 2"),
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
    typed_digits = re.sub(r"[^0-9]", "", "".join(str(int(c)) if c.isdecimal() else c for c in typed))
    if re.search(r"\(\s*0\s*\)", typed) is None:
        assert digits == typed_digits  # every digit, in its order
    else:  # only a trunk (0) may be dropped
        rest = iter(typed_digits)
        assert all(d in rest for d in digits) and len(typed_digits) - len(digits) <= typed.count("(")


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet=st.sampled_from("0123456789 +-.aZ/(#,;"), max_size=16))
def test_the_fast_check_of_usual_telephones_takes_only_what_zoho_takes(typed: str) -> None:
    if _PLAIN.fullmatch(typed):
        assert ZOHO_PHONE.match(typed)

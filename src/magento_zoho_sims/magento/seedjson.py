"""A base customer written straight to PHP-style JSON, without building the dict first (the hot path of
keyset reads). It makes exactly the decisions of ``seed.base_customer``; a test checks that
``seedjson.base_fragment(c) == phpjson.encode(seed.base_customer(c))`` byte for byte.
"""

from __future__ import annotations

from json.encoder import encode_basestring_ascii
from typing import Any

from magento_zoho_sims.magento.seed import (
    _COMPANIES,
    _LONG_STREET,
    _STREETS,
    _TIERS,
    StoreLayout,
    _identity,
    _split,
    _website,
    digest,
    fmt_ts,
    telephone,
)

_NO_REGION = '"region":{"region_code":null,"region":null,"region_id":0},"region_id":0'


def _s(value: str) -> str:
    """A JSON string as ``json_encode`` writes it (``\\u00e9``-style escapes and ``\\/``)."""
    return encode_basestring_ascii(value).replace("/", "\\/")


def _address(cid: int, k: int, a: bytes, locale: Any, names: tuple[str, str]) -> list[str]:
    """The address without its default flags and closing brace (added once the defaults are known)."""
    first, last = names
    country, regions, cities, firsts, _lasts = locale
    city, postcode = cities[a[0] % len(cities)]
    parts = ['{"id":', str(cid * 4 + k), ',"customer_id":', str(cid), ","]
    if regions:
        code, rname, rid = regions[a[1] % len(regions)]
        parts += ['"region":{"region_code":', _s(code), ',"region":', _s(rname), ',"region_id":', str(rid)]
        parts += ['},"region_id":', str(rid)]
    else:
        parts.append(_NO_REGION)
    street = [f"{(a[2] | a[3] << 8) % 999 + 1} {_STREETS[a[4] % len(_STREETS)]}"]
    if a[5] < 77:
        street.append(f"Apt {a[6] % 99 + 1}")
    if a[7] < 8:
        street = [_LONG_STREET[: 256 + a[8] % 85]]
    parts += [',"country_id":"', country, '","street":[', ",".join(map(_s, street)), "]"]
    if a[9] < 52:
        parts += [',"company":', _s(_COMPANIES[a[10] % len(_COMPANIES)])]
    if a[11] < 205:
        parts += [',"telephone":', _s(telephone(a))]
    firstname = first if a[17] < 218 else _split(firsts[a[18] % len(firsts)])[0]
    parts += [',"postcode":', _s(postcode), ',"city":', _s(city), ',"firstname":', _s(firstname)]
    parts += [',"lastname":', _s(last)]
    if a[19] < 13:
        parts += [',"vat_id":"', country, str(int.from_bytes(a[12:16], "little") % (9 * 10**8) + 10**8), '"']
    return parts


def base_fragment(layout: StoreLayout, cid: int) -> bytes:
    """``encode(base_customer(layout, cid))``, faster."""
    seed = layout.seed
    d = digest(seed, cid, 0)
    twin = layout.is_twin(cid)
    origin = cid - 1 if twin else cid
    locale, first, last, email, subscribed = _identity(digest(seed, origin, 0) if twin else d, origin)
    website = _website(layout, cid, d)
    n_addr = (0, 1, 1, 1, 2, 3)[d[1] % 6]
    addresses: list[list[str]] = []
    if n_addr:
        ad = digest(seed, cid, 1)
        addresses = [_address(cid, k, ad[k * 20 : k * 20 + 20], locale, (first, last)) for k in range(n_addr)]
    out = ['{"id":', str(cid), ',"group_id":', str(1 if d[2] < 218 else 2 + d[3] % 2)]
    if n_addr and d[4] < 244:
        billing = d[6] % n_addr if n_addr == 1 or d[5] < 103 else n_addr - 1
        shipping = billing if d[7] < 154 else d[8] % n_addr
        out += [',"default_billing":"', str(cid * 4 + billing), '","default_shipping":"', str(cid * 4 + shipping), '"']
        addresses[shipping].append(',"default_shipping":true')
        addresses[billing].append(',"default_billing":true')
    if d[9] < 6:
        out += [',"confirmation":"', d[44:60].hex(), '"']
    out += [',"created_at":"', fmt_ts(layout.created_ts(cid)), '","updated_at":"', fmt_ts(layout.updated_ts(cid))]
    if d[10] < 13:
        out.append('","created_in":"Admin"')
    else:
        out.append('","created_in":"EU Store View"' if website == 2 else '","created_in":"Default Store View"')
    if d[11] < 128:
        out.append(f',"dob":"{1940 + d[12] % 67}-{d[13] % 12 + 1:02d}-{d[14] % 28 + 1:02d}"')
    out += [',"email":', _s(email), ',"firstname":', _s(first), ',"lastname":', _s(last)]
    if d[15] < 13:
        out.append(',"middlename":"Q."')
    if d[16] < 11:
        out += [',"prefix":', _s(("Dr.", "Mr.", "Ms.", "Prof.")[d[17] % 4])]
    if d[18] < 6:
        out += [',"suffix":', _s(("Jr.", "III")[d[19] % 2])]
    if d[20] < 154:
        out += [',"gender":', str(d[21] % 4)]
    out += [',"store_id":', "2" if website == 2 else "1"]
    if d[22] < 13:
        out += [',"taxvat":"', locale[0], str(int.from_bytes(d[23:26], "little") % (9 * 10**6) + 10**6), '"']
    if cid % 4999 != 123:
        out += [',"website_id":', str(website)]
    out += [',"addresses":[', ",".join("".join(a) + "}" for a in addresses), "]"]
    out.append(',"disable_auto_group_change":0,"extension_attributes":{"is_subscribed":')
    out.append("true}" if subscribed else "false}")
    custom = []
    if d[26] < 77:
        custom.append(f'{{"attribute_code":"loyalty_tier","value":"{_TIERS[d[27] % 3]}"}}')
    if d[28] < 52:
        custom.append(f'{{"attribute_code":"preferred_language","value":"{("11", "12", "13", "14")[d[29] % 4]}"}}')
    if custom:
        out += [',"custom_attributes":[', ",".join(custom), "]"]
    out.append("}")
    return "".join(out).encode("ascii")

"""A deterministic store: every base customer is a pure function of (seed, id), shaped exactly as 2.4 returns it.

Nothing is stored per base customer. ``created_at`` grows with the id (customers register in id order) and
``updated_at`` lies within ``max_update_delay`` seconds after it, so time filters over the base customers can
be answered by id ranges (see ``backend``). Everything lies before the seeding instant ``now``.
"""

from __future__ import annotations

import hashlib
import re
import struct
import time
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

_MASK = (1 << 64) - 1
_EMAIL_ID = re.compile(r"(\d+)@")


def mix2(a: int, b: int) -> int:
    """A fast 64-bit hash of two integers (one splitmix64 finaliser)."""
    z = (a * 0x9E3779B97F4A7C15 + b * 0xC2B2AE3D27D4EB4F + 0x165667B19E3779F9) & _MASK
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9 & _MASK
    z = (z ^ (z >> 27)) * 0x94D049BB133111EB & _MASK
    return z ^ (z >> 31)


def mix(*values: int) -> int:
    """splitmix64 over the values: a fast, well-spread deterministic hash."""
    h = 0x9E3779B97F4A7C15
    for v in values:
        h = (h ^ (v & _MASK)) * 0xBF58476D1CE4E5B9 & _MASK
        h = (h ^ (h >> 31)) * 0x94D049BB133111EB & _MASK
        h ^= h >> 29
    return h


@lru_cache(maxsize=8192)
def _day(day: int) -> str:
    return time.strftime("%Y-%m-%d ", time.gmtime(day * 86400))


_TIMES = tuple(f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}" for s in range(86400))


def fmt_ts(ts: int) -> str:
    """``YYYY-MM-DD HH:MM:SS`` in UTC."""
    day, rest = divmod(ts, 86400)
    return _day(day) + _TIMES[rest]


# (country, regions [(code, name, id)], cities [(city, postcode)], first names, last names, domains)
_REGIONS_US = [("NY", "New York", 43), ("CA", "California", 12), ("TX", "Texas", 57), ("NJ", "New Jersey", 41)]
_LOCALES: list[tuple[str, list[tuple[str, str, int]], list[tuple[str, str]], list[str], list[str]]] = [
    (
        "US",
        _REGIONS_US,
        [("New York", "10001"), ("Hoboken", "07030"), ("Austin", "73301"), ("San José", "95113")],
        ["Jane", "John", "Mary-Kate", 'Robert "Bob"', "D'Andre", "Zoë", "Chloé"],
        ["Doe", "O'Neil", "Smith-Jones", "Van der Berg", "McAllister", "Back\\slash", "D'Angelo"],
    ),
    (
        "GB",
        [],
        [("London", "SW1A 1AA"), ("Manchester", "M1 1AE"), ("Cardiff", "CF10 1EP")],
        ["Oliver", "Amelia", "Siân", "Niamh", "Eoin"],
        ["O'Brien", "Smith", "Ffion-Jones", 'Taylor "Tay"', "Ó Súilleabháin"],
    ),
    (
        "DE",
        [("BAY", "Bayern", 81), ("BER", "Berlin", 82), ("HH", "Hamburg", 84)],
        [("München", "80331"), ("Berlin", "10115"), ("Köln", "50667")],
        ["Jürgen", "Björn", "Änne", "Götz", "Maximilian"],
        ["Müller", "Groß", "Schröder", "Weiß", "von Bülow"],
    ),
    (
        "FR",
        [("75", "Paris", 257), ("69", "Rhône", 251), ("13", "Bouches-du-Rhône", 195)],
        [("Paris", "75001"), ("Lyon", "69001"), ("Marseille", "13001")],
        ["Élodie", "François", "Anaïs", "Jean-Luc", "Hélène"],
        ["Lefèvre", "D'Arcy", "Bézier", "L'Hôpital", "Du Pont"],
    ),
    (
        "ES",
        [("M", "Madrid", 161), ("B", "Barcelona", 139)],
        [("Madrid", "28001"), ("Barcelona", "08001")],
        ["José", "María", "Íñigo", "Begoña"],
        ["Núñez", "Peña", "García-Márquez", "Ibáñez"],
    ),
    (
        "NL",
        [],
        [("Amsterdam", "1011 AB"), ("Utrecht", "3511 AA")],
        ["Sjoerd", "Anouk", "Geert"],
        ["van 't Hek", "de Vries", "IJsselmeer"],
    ),
    (
        "SE",
        [],
        [("Stockholm", "111 20"), ("Malmö", "211 20")],
        ["Åsa", "Björn", "Märta"],
        ["Åström", "Öberg", "Ångström"],
    ),
    (
        "PL",
        [],
        [("Łódź", "90-001"), ("Kraków", "30-001")],
        ["Łukasz", "Zofia", "Wojciech"],
        ["Wiśniewski", "Łęcka", "Żółć"],
    ),
    (
        "JP",
        [],
        [("東京", "100-0001"), ("大阪", "530-0001")],
        ["太郎|taro", "花子|hanako", "さくら|sakura"],
        ["山田|yamada", "佐藤|sato", "鈴木|suzuki"],
    ),
    (
        "CN",
        [("CN-BJ", "Beijing Shi", 488), ("CN-SH", "Shanghai Shi", 514)],
        [("北京", "100000"), ("上海", "200000")],
        ["伟|wei", "芳|fang", "秀英|xiuying"],
        ["王|wang", "李|li", "张|zhang"],
    ),
    (
        "GR",
        [],
        [("Αθήνα", "105 57"), ("Θεσσαλονίκη", "546 21")],
        ["Γιώργος|giorgos", "Ελένη|eleni"],
        ["Παπαδόπουλος|papadopoulos", "Οικονόμου|oikonomou"],
    ),
    (
        "AE",
        [],
        [("Dubai", "00000"), ("Abu Dhabi", "00000")],
        ["محمد|mohammed", "فاطمة|fatima"],
        ["الهاشمي|alhashimi", "المنصوري|almansouri"],
    ),
]
_LOCALE_WEIGHTS = [30, 12, 10, 8, 6, 5, 4, 4, 6, 6, 4, 5]
_DOMAINS = ["example.com", "example.org", "example.net", "mail.example.de", "example.co.jp"]
_STREETS = ["Main St", "High Street", "Rue de l'Église", 'Old "Mill" Road', "Hauptstraße", "Calle Mayor", "Back\\Lane"]
_LONG_STREET = 'Building 7, Entrance C, Floor 12, c/o Reception Desk, Industrial Park "Nord", Lot 42 ' * 4
_COMPANIES = ["Acme Corp", "O'Reilly & Sons", 'The "Best" Shop', "Müller GmbH", "株式会社テスト"]
_TIERS = ["bronze", "silver", "gold"]


@lru_cache(maxsize=1024)
def _split(name: str) -> tuple[str, str]:
    """A name and its ASCII form for e-mails (``display|romanised`` for scripts without a Latin form)."""
    if "|" in name:
        display, ascii_form = name.split("|", 1)
        return display, ascii_form
    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    return name, re.sub(r"[^a-z0-9]+", "", folded.lower()) or "user"


@dataclass(frozen=True)
class StoreLayout:
    """Where base customers sit in time. ``created_at(id)`` is non-decreasing in id."""

    seed: int
    count: int
    now: int
    span: int = 3 * 365 * 86400
    max_update_delay: int = 14 * 86400

    @property
    def start(self) -> int:
        return self.now - self.span - self.max_update_delay - 60

    def created_ts(self, cid: int) -> int:
        return self.start + (cid - 1) * self.span // max(self.count, 1)

    def updated_ts(self, cid: int) -> int:
        created = self.start + (cid - 1) * self.span // max(self.count, 1)
        h = mix2(self.seed, cid)
        if h % 10 < 4:
            return created
        return created + (h >> 8) % self.max_update_delay

    def is_twin(self, cid: int) -> bool:
        """A twin shares the e-mail of ``cid - 1`` but lives in website 2 (per-website account sharing)."""
        return cid >= 2 and (cid == 2 or cid % 997 == 500)

    def email_candidates(self, email: str) -> list[int]:
        """Base ids whose e-mail could be ``email`` (the id is embedded before the ``@``)."""
        found = _EMAIL_ID.search(email)
        if found is None:
            return []
        cid = int(found.group(1))
        return [c for c in (cid, cid + 1) if 1 <= c <= self.count]


_LOCALE_TABLE = [locale for locale, weight in zip(_LOCALES, _LOCALE_WEIGHTS, strict=True) for _ in range(weight)]
_PACK = struct.Struct("<qqq").pack


def digest(seed: int, cid: int, salt: int) -> bytes:
    """64 pseudo-random bytes for (seed, id, salt): every decision about a customer is one byte of these.

    A probability of p percent is written as ``byte < ceil(p * 2.56)`` (e.g. 30 % => ``< 77``)."""
    return hashlib.blake2b(_PACK(seed, cid, salt), digest_size=64).digest()


def _identity(o: bytes, cid: int) -> tuple[Any, str, str, str, bool]:
    """Locale, first name, last name, e-mail and subscription of ``cid`` (twins share their origin's)."""
    locale = _LOCALE_TABLE[(o[32] | o[40] << 8) % len(_LOCALE_TABLE)]
    first, first_ascii = _split(locale[3][o[33] % len(locale[3])])
    last, last_ascii = _split(locale[4][o[34] % len(locale[4])])
    domain = _DOMAINS[o[35] % len(_DOMAINS)]
    subscribed = o[37] * 100 < 30 * 256  # is_subscribed is matched by e-mail only, so twins agree
    local = f"{first_ascii}.{last_ascii}{cid}"
    if cid % 211 == 7:  # a few invalid addresses that an import let through
        bad = [f"{local}@{domain.split('.')[0]}", f"{first_ascii} {last_ascii}{cid}@{domain}", f"{local}@@{domain}"]
        return locale, first, last, bad[cid % 3], subscribed
    if o[36] * 100 < 10 * 256:
        email = f"{first_ascii.capitalize()}.{last_ascii.capitalize()}{cid}@{domain.capitalize()}"
        return locale, first, last, email, subscribed
    return locale, first, last, f"{local}@{domain}", subscribed


def email_of(layout: StoreLayout, cid: int) -> str:
    origin = cid - 1 if layout.is_twin(cid) else cid
    return _identity(digest(layout.seed, origin, 0), origin)[3]


def telephone(a: bytes) -> str:
    """An address's telephone as a customer types it: mostly ``+49 301 4567``, and in about 1 of 20 addresses
    with a phone the forms Zoho's phone pattern refuses or that a client must not mangle (a slash, parentheses,
    a trunk ``(0)``, a ``#`` or ``ext.`` extension, a label)."""
    country, middle, end = a[12] % 99 + 1, (a[13] | a[14] << 8) % 900 + 100, (a[15] | a[16] << 8) % 9000 + 1000
    if a[11] >= 12:
        return f"+{country} {middle} {end}"
    return (
        f"0{middle}/{end}",
        f"({middle}) {end}",
        f"+{country} (0){middle} {end}",
        f"+{country} {middle} {end} #{a[6] % 90 + 10}",
        f"+{country}-{middle}-{end} ext. {a[6] % 90 + 10}",
        f"Tel.: {middle} {end}",
    )[a[11] % 6]


def _address(cid: int, k: int, a: bytes, locale: Any, names: tuple[str, str]) -> dict[str, Any]:
    first, last = names
    country, regions, cities, firsts, _lasts = locale
    city, postcode = cities[a[0] % len(cities)]
    if regions:
        code, rname, rid = regions[a[1] % len(regions)]
        region: dict[str, Any] = {"region_code": code, "region": rname, "region_id": rid}
    else:
        region, rid = {"region_code": None, "region": None, "region_id": 0}, 0
    street = [f"{(a[2] | a[3] << 8) % 999 + 1} {_STREETS[a[4] % len(_STREETS)]}"]
    if a[5] < 77:
        street.append(f"Apt {a[6] % 99 + 1}")
    if a[7] < 8:
        street = [_LONG_STREET[: 256 + a[8] % 85]]  # longer than a 255-character CRM field
    address: dict[str, Any] = {
        "id": cid * 4 + k,
        "customer_id": cid,
        "region": region,
        "region_id": rid,
        "country_id": country,
        "street": street,
    }
    if a[9] < 52:
        address["company"] = _COMPANIES[a[10] % len(_COMPANIES)]
    if a[11] < 205:  # missing phones
        address["telephone"] = telephone(a)
    address["postcode"] = postcode
    address["city"] = city
    address["firstname"] = first if a[17] < 218 else _split(firsts[a[18] % len(firsts)])[0]
    address["lastname"] = last
    if a[19] < 13:
        address["vat_id"] = f"{country}{int.from_bytes(a[12:16], 'little') % (9 * 10**8) + 10**8}"
    return address


def _website(layout: StoreLayout, cid: int, d: bytes) -> int:
    if layout.is_twin(cid):
        return 2
    if layout.is_twin(cid + 1):
        return 1
    return 2 if d[0] < 39 else 1  # 15 %


def website_of(layout: StoreLayout, cid: int) -> int | None:
    """The ``website_id`` of base customer ``cid`` without building it (``None``: website deleted)."""
    return None if cid % 4999 == 123 else _website(layout, cid, digest(layout.seed, cid, 0))


def base_customer(layout: StoreLayout, cid: int) -> dict[str, Any]:
    """The base customer ``cid`` exactly as ``GET /V1/customers/{id}`` returns it."""
    seed = layout.seed
    d = digest(seed, cid, 0)
    twin = layout.is_twin(cid)
    origin = cid - 1 if twin else cid
    locale, first, last, email, subscribed = _identity(digest(seed, origin, 0) if twin else d, origin)
    website = _website(layout, cid, d)
    n_addr = (0, 1, 1, 1, 2, 3)[d[1] % 6]
    addresses: list[dict[str, Any]] = []
    if n_addr:
        ad = digest(seed, cid, 1)
        addresses = [_address(cid, k, ad[k * 20 : k * 20 + 20], locale, (first, last)) for k in range(n_addr)]
    customer: dict[str, Any] = {"id": cid, "group_id": 1 if d[2] < 218 else 2 + d[3] % 2}
    if n_addr and d[4] < 244:
        billing = d[6] % n_addr if n_addr == 1 or d[5] < 103 else n_addr - 1  # often not the first address
        shipping = billing if d[7] < 154 else d[8] % n_addr
        customer["default_billing"] = str(addresses[billing]["id"])
        customer["default_shipping"] = str(addresses[shipping]["id"])
        addresses[shipping]["default_shipping"] = True
        addresses[billing]["default_billing"] = True
    if d[9] < 6:
        customer["confirmation"] = d[44:60].hex()
    customer["created_at"] = fmt_ts(layout.created_ts(cid))
    customer["updated_at"] = fmt_ts(layout.updated_ts(cid))
    if d[10] < 13:
        customer["created_in"] = "Admin"
    else:
        customer["created_in"] = "EU Store View" if website == 2 else "Default Store View"
    if d[11] < 128:
        customer["dob"] = f"{1940 + d[12] % 67}-{d[13] % 12 + 1:02d}-{d[14] % 28 + 1:02d}"
    customer["email"] = email
    customer["firstname"] = first
    customer["lastname"] = last
    if d[15] < 13:
        customer["middlename"] = "Q."
    if d[16] < 11:
        customer["prefix"] = ("Dr.", "Mr.", "Ms.", "Prof.")[d[17] % 4]
    if d[18] < 6:
        customer["suffix"] = ("Jr.", "III")[d[19] % 2]
    if d[20] < 154:
        customer["gender"] = d[21] % 4
    customer["store_id"] = 2 if website == 2 else 1
    if d[22] < 13:
        customer["taxvat"] = f"{locale[0]}{int.from_bytes(d[23:26], 'little') % (9 * 10**6) + 10**6}"
    if cid % 4999 != 123:  # a few customers whose website was deleted: no website_id
        customer["website_id"] = website
    customer["addresses"] = addresses
    customer["disable_auto_group_change"] = 0
    customer["extension_attributes"] = {"is_subscribed": subscribed}
    custom: list[dict[str, str]] = []
    if d[26] < 77:
        custom.append({"attribute_code": "loyalty_tier", "value": _TIERS[d[27] % 3]})
    if d[28] < 52:
        # a select attribute: Magento gives its option id (labels: attributes.LANGUAGE_OPTIONS)
        custom.append({"attribute_code": "preferred_language", "value": ("11", "12", "13", "14")[d[29] % 4]})
    if custom:
        customer["custom_attributes"] = custom
    return customer

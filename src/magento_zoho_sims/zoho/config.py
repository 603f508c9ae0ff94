"""Every switch of the Zoho simulator in one place.

Where the reference marks a Zoho behaviour unverified, the switch defaults to the documented or the more
hostile behaviour (so that the product is tested against the worse case).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from magento_zoho_sims.zoho.coql import QuoteEscape
from magento_zoho_sims.zoho.fields import FieldSpec

# Simultaneous in-flight API calls per org per OAuth app, by edition (reference §5).
EDITION_CONCURRENCY = {"free": 5, "standard": 10, "professional": 15, "enterprise": 20, "ultimate": 25}

DuplicateMatch = Literal["oldest", "newest", "error"]
SameBatchDuplicates = Literal["insert_both", "sequential", "reject_second", "reject_request"]
UnknownPicklistValues = Literal["reject", "accept"]
RecordErrorsAtRequestLevel = Literal["never", "all_failed", "invalid_record"]
RefusedWriteCredits = Literal["charged", "refused_requests_free", "free"]
CoqlCredits = Literal["by_limit", "flat"]


@dataclass
class ZohoConfig:
    # --- org / records -----------------------------------------------------------------------------------
    email_unique: bool = False  # org setting "Do not allow duplicates in Email field" (off by default in Zoho)
    email_case_sensitive: bool = False  # [UNVERIFIED] Email matching; reference: switch, default insensitive
    # [UNVERIFIED] COQL's Email = / in comparisons: None follows email_case_sensitive; True or False sets them apart
    # (a case-sensitive COQL beside a case-insensitive upsert match, say)
    coql_email_case_sensitive: bool | None = None
    duplicate_match: DuplicateMatch = "oldest"  # upsert when several contacts share the matched value
    # [UNVERIFIED] two records of ONE upsert with the same email: both matched against the org as it was (two
    # contacts), one after the other (the second updates the first), the second refused (DUPLICATE_DATA), or the
    # whole request refused (a top-level DUPLICATE_DATA naming the second)
    same_batch_duplicates: SameBatchDuplicates = "insert_both"
    upsert_mixed_status: int = 207  # [UNVERIFIED] all succeeded but some inserted, some updated: 207 or 200
    # [UNVERIFIED] records Zoho refuses, answered as ONE top-level error (400, flat body naming $.data[i]) instead
    # of {"data": [per-record results]}: "never"; "all_failed" (when every record of the write failed: the first
    # one's error); "invalid_record" (that, and a record failing validation (INVALID_DATA, MANDATORY_NOT_FOUND)
    # refuses the whole request, nothing written, good records included)
    record_errors_at_request_level: RecordErrorsAtRequestLevel = "all_failed"
    # [UNVERIFIED] what a write costs when Zoho refuses some or all of its records: "charged" (1 credit per 10 records
    # sent, whatever became of them), "refused_requests_free" (a write that wrote nothing costs nothing, one with a
    # record written every record sent) or "free" (1 per 10 records written; a write that wrote nothing: nothing)
    refused_write_credits: RefusedWriteCredits = "charged"
    reject_unknown_fields: bool = True  # unknown field API names → INVALID_DATA (else silently ignored)
    numeric_strings: bool = False  # [UNVERIFIED] a number field takes "42" as well as 42 (else INVALID_DATA)
    phone_parentheses: bool = False  # [UNVERIFIED] phone fields take ( ) (an example has them; the pattern refuses)
    # [UNVERIFIED] a multi-select picklist given a value its pick list lacks: "reject" (INVALID_DATA) or "accept" (the
    # value is stored and added to the pick list, as the reference says picklists do unless restricted)
    multiselect_unknown_values: UnknownPicklistValues = "reject"
    utf16_lengths: bool = True  # [UNVERIFIED] a field's length counts UTF-16 units (an emoji is 2), else code points
    missing_record_status: int = 204  # [UNVERIFIED] GET /Contacts/{unknown id}: 204 or 400 INVALID_DATA
    magento_id_field: bool = True  # the org has a unique custom field Magento_Customer_ID
    extra_fields: tuple[FieldSpec, ...] = field(default=())  # more custom fields the org has created
    index_lag: float = 0.0  # seconds during which fresh writes are invisible to /search
    time_zone_offset_minutes: int = 330  # the user's time zone in datetimes (Zoho's samples are +05:30)
    coql_max_rows: int = 2000  # rows per COQL call
    coql_quote_escape: QuoteEscape = "doubled"  # [UNVERIFIED] a quote in a COQL string: '' (SQL), \' or either
    # [UNVERIFIED] what a COQL call costs: "by_limit" (1 credit up to 200 rows, 2 up to 1,000, 3 up to 2,000, Kaizen
    # #60) or "flat" (1 a call, whatever its LIMIT)
    coql_credits: CoqlCredits = "by_limit"
    coql_empty_status: int = 204  # [UNVERIFIED] a COQL query finding no row: 204 (empty body) or 200 with data []
    coql_max_reachable: int = 100_000  # offset + limit ceiling [conflicting sources: 10,000 or 100,000]
    # --- limits ------------------------------------------------------------------------------------------
    edition: str = "enterprise"
    concurrency_limit: int | None = None  # None: by edition
    sub_concurrency_limit: int = 10
    credits_per_day: int = 250_000  # enterprise: 50,000 + 1,000 per user licence (200 users)
    # [UNVERIFIED] the 429 wording: None says "credits" or "concurrent" as the case is; a text: every 429 says it
    too_many_requests_message: str | None = None
    # --- accounts ----------------------------------------------------------------------------------------
    api_domain: str | None = None  # None: the simulator's own base URL (from the request's Host)
    expired_access_error: str = "INVALID_TOKEN"  # or AUTHENTICATION_FAILURE, reported for stale tokens at times
    access_token_ttl: int = 3600
    scope_in_token_response: bool = True  # reference §1.2: "appears in some responses and not others"
    max_access_tokens_per_refresh_token: int = 15
    refresh_throttle_limit: int = 10  # refreshes per refresh token per window; the next is "Access Denied"
    refresh_throttle_window: float = 600.0
    refresh_throttle_counts_denied: bool = True  # denied attempts keep the block alive (clears after inactivity)
    throttle_status: int = 200  # Kaizen #43: 200; one third-party client documents 400
    grant_code_ttl: float = 180.0
    max_refresh_tokens: int = 20  # per user per client; the 21st revokes the oldest

    def concurrency(self) -> int:
        if self.concurrency_limit is not None:
            return self.concurrency_limit
        return EDITION_CONCURRENCY.get(self.edition, 20)

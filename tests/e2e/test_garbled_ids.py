"""A store whose customer search garbles some customers' ids (an extension, a proxy): each such customer is read,
reported and counted once, as the report defines ``read``."""

from __future__ import annotations

import json
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from magento_zoho_sims.common import InProcessTransport
from magento_zoho_sync.mapping import normalise_email
from magento_zoho_sync.output import build_report
from magento_zoho_sync.state import StateStore
from tests.e2e.conftest import MAGENTO_HOST, ZOHO_HOST, World


class GarblingIds:
    """Magento's customer search answers with the ids of ``garbled`` customers written as ``"#<id>"``."""

    def __init__(self, app: ASGIApp, garbled: set[int]) -> None:
        self.app = app
        self.garbled = garbled

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].endswith("/customers/search"):
            await self.app(scope, receive, send)
            return
        start: dict[str, Any] = {}
        chunks: list[bytes] = []

        async def garble(message: Message) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body"):
                return
            body = b"".join(chunks)
            if start["status"] == 200:
                answer = json.loads(body)
                for item in answer["items"]:
                    if item.get("id") in self.garbled:
                        item["id"] = f"#{item['id']}"
                body = json.dumps(answer).encode()
            headers = [(k, v) for k, v in start["headers"] if k.lower() != b"content-length"]
            await send({**start, "headers": [*headers, (b"content-length", str(len(body)).encode())]})
            await send({"type": "http.response.body", "body": body})

        await self.app(scope, receive, garble)


def test_a_customer_whose_id_a_page_garbles_is_read_and_reported_once(make_world: Any) -> None:
    """Customer 10 ended a page of 10 and began the next answer (keyset paging reads on after the page's last valid
    id, 9): it was reported twice, and counted twice in ``read``. Customer 25 ends the last page."""
    world: World = make_world(25)
    world.transport = InProcessTransport(
        {MAGENTO_HOST: GarblingIds(world.magento.app, {10, 25}), ZOHO_HOST: world.zoho.app}
    )
    result = world.sync(**{"magento.page_size": 10})
    tally = result.tally
    counts = build_report(result).to_dict()["counts"]
    assert counts["read"] == 25
    assert counts["read"] == sum(counts[key] for key in ("inserted", "updated", "unchanged", "failed", "merged"))
    emails = {customer_id: email for customer_id, email, _ in world.magento.backend.iter_emails()}
    without_id = [failure for failure in tally.failures if failure.customer_id is None]
    assert sorted(str(failure.email) for failure in without_id) == sorted(normalise_email(emails[i]) for i in (10, 25))
    assert all(failure.code == "MAPPING_ERROR" for failure in without_id)
    state = StateStore.open(world.state_path, read_only=True)
    try:  # the run's failures as `errors` lists them
        listed = [failure for failure in state.run_errors(tally.run_id) if failure.customer_id is None]
    finally:
        state.close()
    assert len(listed) == 2

"""Pieces shared by both simulators: clock, fault injection, servers, in-process transport, request log."""

from magento_zoho_sims.common.clock import Clock
from magento_zoho_sims.common.faults import DropConnection, FaultMiddleware, FaultPlan
from magento_zoho_sims.common.requestlog import LoggedRequest, RequestLog
from magento_zoho_sims.common.server import ThreadedServer
from magento_zoho_sims.common.transport import InProcessTransport

__all__ = [
    "Clock",
    "DropConnection",
    "FaultMiddleware",
    "FaultPlan",
    "InProcessTransport",
    "LoggedRequest",
    "RequestLog",
    "ThreadedServer",
]

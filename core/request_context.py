"""The current request's id and client address, for audit rows and log lines (no model imports:
logging configuration loads this before apps are ready)."""

import logging
from contextvars import ContextVar
from dataclasses import dataclass


@dataclass(frozen=True)
class RequestContext:
    request_id: str = ""
    client_address: str | None = None


# Set by RequestContextMiddleware for each request; tasks and commands leave it empty.
# RequestContext is a frozen dataclass, so sharing one default instance is safe.
current_request: ContextVar[RequestContext] = ContextVar("current_request", default=RequestContext())  # noqa: B039


class RequestIdLogFilter(logging.Filter):
    def filter(self, record):
        record.request_id = current_request.get().request_id or "-"
        return True

"""The request log of `parvis serve`: method, path and status of every request, never the
client's network address (the privacy page promises addresses are kept only in the database,
for `ip_retention_days`) nor the query string (streaming clients may put their access token
there, as Mastodon's API allows)."""

from __future__ import annotations

import copy
import logging
from typing import Any

from uvicorn.config import LOGGING_CONFIG
from uvicorn.logging import AccessFormatter

FORMAT = '%(levelprefix)s "%(request_line)s" %(status_code)s'


class RequestLogFormatter(AccessFormatter):
    """uvicorn's access formatter with the address and the query string left out."""

    def formatMessage(self, record: logging.LogRecord) -> str:
        args = record.args
        if isinstance(args, tuple) and len(args) == 5:
            _, method, full_path, http_version, status_code = args
            path = str(full_path).split("?", 1)[0]
            record.args = ("-", method, path, http_version, status_code)
        return super().formatMessage(record)


def logging_config() -> dict[str, Any]:
    """uvicorn's logging configuration, its access lines written by RequestLogFormatter."""
    config = copy.deepcopy(LOGGING_CONFIG)
    config["formatters"]["access"] = {
        "()": f"{__name__}.RequestLogFormatter",
        "fmt": FORMAT,
    }
    return config

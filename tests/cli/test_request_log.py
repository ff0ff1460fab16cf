"""`parvis serve`'s request log leaves out the client's address and the query string (where a
streaming client may carry its access token), through uvicorn's own logging set-up."""

from __future__ import annotations

import importlib
import logging
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from parvis.cli.request_log import logging_config


def resolve(dotted: str) -> Any:
    """What logging.config's "()" names: module.attribute."""
    module, _, name = dotted.rpartition(".")
    return getattr(importlib.import_module(module), name)


def logged(client: str, method: str, path: str, status: int) -> str:
    """One access line, as uvicorn writes it, by the formatter of the configuration that serve
    hands to uvicorn (built as logging.config builds it, without touching global logging)."""
    spec = logging_config()["formatters"]["access"]
    formatter = resolve(spec["()"])(fmt=spec["fmt"], use_colors=False)
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        (client, method, path, "1.1", status),
        None,
    )
    return str(formatter.format(record))


def test_the_line_has_method_path_and_status_and_no_address_or_query() -> None:
    line = logged("203.0.113.7:51234", "GET", "/api/v1/streaming?access_token=s3cret", 101)
    assert '"GET /api/v1/streaming HTTP/1.1" 101' in line
    assert "203.0.113.7" not in line
    assert "s3cret" not in line and "access_token" not in line


@given(
    host=st.ip_addresses().map(str),
    port=st.integers(1, 65535),
    query=st.text(st.characters(min_codepoint=33, max_codepoint=126), min_size=1, max_size=40),
)
def test_no_address_or_query_ever_reaches_the_log(host: str, port: int, query: str) -> None:
    secret = "tok" + query
    line = logged(f"{host}:{port}", "POST", f"/oauth/token?x={secret}", 200)
    assert host not in line.replace("HTTP/1.1", "")
    assert secret not in line
    assert '"POST /oauth/token HTTP/1.1" 200' in line

"""Property tests of the public surface: any value in any parameter of a sample
of operations and settings ends in a typed `MiosaError` or a result, never in
another exception or a crash. The client points at a closed port, so every
accepted call fails fast with `APIConnectionError`."""

from __future__ import annotations

from typing import Any, Callable, Dict

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import miosa_native

CLOSED = "http://127.0.0.1:9/api/v1"

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**80), max_value=2**80),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    st.sampled_from(["", "\ud800", "a\udfffb", "msk_", "http://x", "-1", "1e400", "\x00"]),
    st.binary(max_size=16),
    st.sampled_from([object(), print, Ellipsis, 1j, frozenset({1})]),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=6,
)

SETTINGS = [
    "api_key", "base_url", "connect_timeout", "timeout", "operation_timeout", "max_retries",
    "retry_base_delay", "retry_max_delay", "max_response_bytes", "max_download_bytes",
    "max_event_bytes", "allow_insecure_http", "headers",
]


def client() -> miosa_native.Client:
    return miosa_native.Client("msk_u_property", base_url=CLOSED, max_retries=0, connect_timeout=1)


def only_typed_errors(call: Callable[[], Any]) -> None:
    try:
        call()
    except miosa_native.MiosaError:
        pass


PROPERTY = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(name=st.sampled_from(SETTINGS), value=values)
def test_any_setting_value(name: str, value: Any) -> None:
    base: Dict[str, Any] = {"api_key": "msk_u_property", "base_url": CLOSED}
    base[name] = value
    only_typed_errors(lambda: miosa_native.Client(**base).settings)


@PROPERTY
@given(
    option=st.sampled_from(["extra_headers", "extra_query", "extra_body", "timeout", "max_response_bytes"]),
    value=values,
)
def test_any_call_option_value(option: str, value: Any) -> None:
    c = client()
    only_typed_errors(lambda: c.sandboxes.get("sbx_fixture", **{option: value}))


@PROPERTY
@given(first=values, second=values)
def test_any_operation_argument(first: Any, second: Any) -> None:
    c = client()
    calls = [
        lambda: c.sandboxes.get(first),
        lambda: c.sandboxes.update("sbx_fixture", name=first, tags=second),
        lambda: c.credits.history(limit=first, offset=second, type=first),
        lambda: c.sandbox.files.write("sbx_fixture", first, second),
        lambda: c.sandbox.processes.logs("sbx_fixture", first, second),
        lambda: c.exec.run(first, command=second, timeout=first),
    ]
    for call in calls:
        only_typed_errors(call)

"""The compiled module: a generic client over the core's operation table."""

from typing import Any, Callable, Dict, Generic, Iterator, List, Mapping, Optional, Sequence, Tuple, TypeVar, Union

_T = TypeVar("_T")

__version__: str

class Event:
    """One server-sent event."""

    event: str
    data: str
    id: Optional[str]
    retry: Optional[int]
    def __init__(self, event: str, data: str, id: Optional[str] = None, retry: Optional[int] = None) -> None: ...
    def json(self) -> Any:
        """`data` parsed as JSON (raises `DecodeError` when it is not JSON)."""
    def to_dict(self) -> Dict[str, Any]: ...

class EventStream:
    """An open SSE stream. Iterate it; leaving the loop, `close()` or leaving a `with` block ends the connection."""

    @property
    def closed(self) -> bool: ...
    def __iter__(self) -> "EventStream": ...
    def __next__(self) -> Event: ...
    async def anext(self) -> Optional[Event]: ...
    def close(self) -> None: ...
    def __enter__(self) -> "EventStream": ...
    def __exit__(self, *exc: object) -> bool: ...

class SocketMessage:
    """One message received on a socket."""

    @property
    def channel(self) -> str: ...
    @property
    def data(self) -> bytes: ...
    @property
    def text(self) -> str: ...
    def json(self) -> Any: ...

class Socket:
    """An open WebSocket (wrapped by `miosa_native.Socket` and `AsyncSocket`)."""

    @property
    def closed(self) -> bool: ...
    @property
    def exit_code(self) -> Optional[int]: ...
    @property
    def frames(self) -> str: ...
    def recv(self, timeout: Optional[float] = None) -> Optional[SocketMessage]: ...
    async def arecv(self) -> Optional[SocketMessage]: ...
    def send(self, data: Union[str, bytes]) -> None: ...
    async def asend(self, data: Union[str, bytes]) -> None: ...
    def resize(self, cols: int, rows: int) -> None: ...
    async def aresize(self, cols: int, rows: int) -> None: ...
    def signal(self, signal: str) -> None: ...
    def close_stdin(self) -> None: ...
    def close(self) -> None: ...

class Page(Generic[_T]):
    """One page of a list."""

    items: List[_T]
    next_cursor: Optional[str]
    @property
    def has_more(self) -> bool: ...
    def __len__(self) -> int: ...
    def __iter__(self) -> Iterator[_T]: ...
    def __getitem__(self, index: int) -> _T: ...
    def next_page(self) -> "Optional[Page[_T]]":
        """The page after this one (one request), or `None` on the last."""
    async def anext_page(self) -> "Optional[Page[_T]]":
        """Awaitable `next_page()`, for `AsyncClient`."""

class Pager(Generic[_T]):
    """Every item of a paginated operation, fetched page by page as iteration needs it."""

    def __iter__(self) -> "Pager[_T]": ...
    def __next__(self) -> _T: ...
    async def anext(self) -> Optional[_T]: ...
    def close(self) -> None: ...
    @property
    def closed(self) -> bool: ...
    def next_page(self) -> Optional[Page[_T]]:
        """The next whole page of the walk, or `None` after the last."""
    async def anext_page(self) -> Optional[Page[_T]]: ...
    def iter_pages(self) -> "PageWalk[_T]":
        """The walk page by page: `for page in pager.iter_pages()`."""

class PageWalk(Generic[_T]):
    """Whole pages of a `Pager`."""

    def __iter__(self) -> "PageWalk[_T]": ...
    def __next__(self) -> Page[_T]: ...
    def close(self) -> None: ...

class NotGiven:
    """Marks a keyword that was not passed; `None` sends an explicit JSON null."""

    def __bool__(self) -> bool: ...

NOT_GIVEN: NotGiven

class NativeClient:
    def __init__(self, settings: Optional[Mapping[str, Any]] = None) -> None: ...
    @property
    def settings(self) -> Dict[str, Any]: ...
    def call_options(
        self,
        extra_headers: Optional[Mapping[str, Any]] = None,
        extra_query: Optional[Mapping[str, Any]] = None,
        extra_body: Optional[Mapping[str, Any]] = None,
        timeout: Optional[float] = None,
        max_response_bytes: Optional[int] = None,
    ) -> Dict[str, Any]: ...
    @property
    def base_url(self) -> str: ...
    @property
    def closed(self) -> bool: ...
    def close(self) -> None: ...
    def call(
        self,
        op: str,
        args: Tuple[Any, ...],
        params: Optional[Mapping[str, Any]] = None,
        extra_headers: Optional[Mapping[str, Any]] = None,
        extra_query: Optional[Mapping[str, Any]] = None,
        extra_body: Optional[Mapping[str, Any]] = None,
        timeout: Optional[float] = None,
        max_response_bytes: Optional[int] = None,
        wrap: Any = None,
        on_state: Optional[Callable[[str], object]] = None,
    ) -> Any: ...
    async def acall(
        self,
        op: str,
        args: Tuple[Any, ...],
        params: Optional[Mapping[str, Any]] = None,
        extra_headers: Optional[Mapping[str, Any]] = None,
        extra_query: Optional[Mapping[str, Any]] = None,
        extra_body: Optional[Mapping[str, Any]] = None,
        timeout: Optional[float] = None,
        max_response_bytes: Optional[int] = None,
        wrap: Any = None,
        on_state: Optional[Callable[[str], object]] = None,
    ) -> Any: ...
    def pager(
        self,
        op: str,
        args: Tuple[Any, ...],
        params: Optional[Mapping[str, Any]] = None,
        extra_headers: Optional[Mapping[str, Any]] = None,
        extra_query: Optional[Mapping[str, Any]] = None,
        extra_body: Optional[Mapping[str, Any]] = None,
        timeout: Optional[float] = None,
        max_response_bytes: Optional[int] = None,
        wrap: Any = None,
    ) -> Pager[Any]: ...

def redacted(value: Dict[str, Any]) -> Dict[str, Any]:
    """`value` with secret fields hidden and URL fields stripped of query and password."""

def parse_sse(chunks: Sequence[bytes]) -> List[Event]:
    """Parses a whole SSE stream given as chunks with the core's parser."""

def verify_webhook(
    payload: Union[str, bytes, bytearray, memoryview],
    signature: Optional[str],
    secret: str,
    *,
    tolerance: Optional[float] = None,
    now: Optional[float] = None,
) -> None: ...
def unwrap_webhook(
    payload: Union[str, bytes, bytearray, memoryview],
    headers: Mapping[str, str],
    secret: str,
    *,
    tolerance: Optional[float] = None,
    now: Optional[float] = None,
) -> Dict[str, Any]: ...
def operations() -> List[Dict[str, Any]]:
    """Every operation of the core's table."""

def error_from_response(
    status: int, body: bytes, request_id: Optional[str] = None, retry_after: Optional[float] = None
) -> Exception:
    """The exception the core builds for a non-success response."""

def _panic_for_tests(message: str) -> None: ...
def call_raw(native: NativeClient, *args: Any) -> Tuple[Any, int, List[Tuple[str, str]], Optional[str]]: ...
async def acall_raw(native: NativeClient, *args: Any) -> Tuple[Any, int, List[Tuple[str, str]], Optional[str]]: ...
def download_to_path(
    native: NativeClient, sandbox_id: str, remote_path: str, local_path: str, on_progress: Optional[Callable[[int, Optional[int]], Any]] = None
) -> int: ...
async def adownload_to_path(
    native: NativeClient, sandbox_id: str, remote_path: str, local_path: str, on_progress: Optional[Callable[[int, Optional[int]], Any]] = None
) -> int: ...
def upload_from_path(
    native: NativeClient,
    sandbox_id: str,
    remote_path: str,
    local_path: str,
    on_progress: Optional[Callable[[int, Optional[int]], Any]] = None,
    wrap: Any = None,
) -> Any: ...
async def aupload_from_path(
    native: NativeClient,
    sandbox_id: str,
    remote_path: str,
    local_path: str,
    on_progress: Optional[Callable[[int, Optional[int]], Any]] = None,
    wrap: Any = None,
) -> Any: ...
def set_log_handler(
    handler: Optional[Callable[[str, str, Dict[str, Any]], Any]],
    enabled: Optional[Callable[[str], bool]] = None,
) -> None: ...

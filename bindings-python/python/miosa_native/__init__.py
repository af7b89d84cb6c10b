"""MIOSA API client (sandboxes, computers, exec, files, desktops and the platform
around them), backed by the `miosa` Rust core.

    from miosa_native import Client
    client = Client("msk_live_...")
    sandbox = client.sandboxes.create(name="quick-exec")
"""

from . import webhooks
from ._base import AsyncEventStream, AsyncPager, FileWrite, FileWriteBase64, Model
from ._client import AsyncClient, Client, ClientSettings
from ._handle_base import PendingHandle
from ._handles import AsyncComputerHandle, AsyncSandboxHandle, ComputerHandle, SandboxHandle
from ._native import NOT_GIVEN, NotGiven
from . import _models
from ._models import *  # noqa: F401,F403  (every typed model)
from ._native import Event, EventStream, Page, Pager, __version__
from ._observe import ProgressCallback, RawResponse
from ._socket import AsyncSocket, Socket, SocketMessage
from .errors import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    ConflictError,
    DecodeError,
    InsufficientCreditsError,
    InternalError,
    InvalidArgumentError,
    LimitExceededError,
    MiosaError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    RequestCancelledError,
    ServerError,
    UsageError,
    ValidationError,
    WebhookVerificationError,
)

__all__ = [
    "__version__",
    "Client",
    "AsyncClient",
    "ClientSettings",
    "SandboxHandle",
    "AsyncSandboxHandle",
    "ComputerHandle",
    "AsyncComputerHandle",
    "PendingHandle",
    "NOT_GIVEN",
    "NotGiven",
    "Event",
    "EventStream",
    "AsyncEventStream",
    "Socket",
    "AsyncSocket",
    "SocketMessage",
    "Page",
    "Pager",
    "AsyncPager",
    "Model",
    "FileWrite",
    "FileWriteBase64",
    "RawResponse",
    "ProgressCallback",
    "webhooks",
    "MiosaError",
    "AuthenticationError",
    "InsufficientCreditsError",
    "PermissionDeniedError",
    "NotFoundError",
    "ConflictError",
    "ValidationError",
    "RateLimitError",
    "ServerError",
    "APIStatusError",
    "APITimeoutError",
    "APIConnectionError",
    "DecodeError",
    "InvalidArgumentError",
    "LimitExceededError",
    "RequestCancelledError",
    "UsageError",
    "WebhookVerificationError",
    "LimitExceededError",
    "InternalError",
]
__all__ += _models.__all__

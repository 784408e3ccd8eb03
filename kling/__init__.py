"""Kling v2.0 master through the WaveSpeed API: typed requests, a careful client, a preview simulator."""

from .client import AsyncKlingClient, KlingClient, PollPolicy, Task, Update
from .errors import KlingError, ValidationError
from .params import I2VRequest, T2VRequest

__all__ = [
    "AsyncKlingClient",
    "I2VRequest",
    "KlingClient",
    "KlingError",
    "PollPolicy",
    "T2VRequest",
    "Task",
    "Update",
    "ValidationError",
]

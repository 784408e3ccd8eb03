"""Kling v2.0 master through the WaveSpeed API: typed requests, a careful client, a preview simulator."""

from kling.api.client import AsyncKlingClient, KlingClient
from kling.api.models import PollPolicy, Task, Update
from kling.api.params import I2VRequest, T2VRequest
from kling.errors import KlingError, ValidationError

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

"""Codat Bill Pay (sync) API: typed models, errors and the async client."""

from .client import DEFAULT_BASE_URL, CodatClient
from .errors import (
    CodatApiError,
    CodatConflict,
    CodatError,
    CodatNotFound,
    CodatNotSent,
    CodatOutcomeUnknown,
)
from .retry import RetryPolicy

__all__ = [
    "DEFAULT_BASE_URL",
    "CodatApiError",
    "CodatClient",
    "CodatConflict",
    "CodatError",
    "CodatNotFound",
    "CodatNotSent",
    "CodatOutcomeUnknown",
    "RetryPolicy",
]

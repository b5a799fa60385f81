"""Codat's async Bill Pay API (v1): reads from the synced data, writes as push operations."""

from .client import API, AsyncBillPayClient, as_bill
from .follow import FollowPolicy, follow
from .models import AsyncBillPayment, PaymentLine, PaymentLink, PushOperation, PushStatus

__all__ = ["API", "AsyncBillPayClient", "AsyncBillPayment", "FollowPolicy", "PaymentLine",
           "PaymentLink", "PushOperation", "PushStatus", "as_bill", "follow"]

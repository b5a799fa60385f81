"""Codat's cache of a company's books: what the async API's data endpoints read.

A sync (`POST /data/all`, `/data/queue/{dataType}`, the periodic sync or
`/_sandbox/async/sync`) copies the linked connection's ledger into the cache and records a
pull operation per data type; nothing written since (push operations included) shows until
the next one, as with Codat (D: "reads come from the data cache").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from billbot.sandbox.codat.books import SYNCED_TYPES, project
from billbot.sandbox.codat.errors import ApiError
from billbot.sandbox.codat.ledger import Json, Ledger

PULL_HISTORY_LIMIT = 2000


@dataclass
class CompanyCache:
    """One company's synced data, its data statuses and its pull operation history."""

    connection_id: str
    data: dict[str, dict[str, Json]] = field(default_factory=dict)  # dataType -> id -> record
    statuses: dict[str, Json] = field(default_factory=dict)  # dataType -> DataStatus
    pulls: list[Json] = field(default_factory=list)  # PullOperation, oldest first
    last_sync: datetime | None = None

    def records(self, data_type: str) -> dict[str, Json]:
        """The synced records; 409 while the data type has never been synced (D)."""
        records = self.data.get(data_type)
        if records is None:
            raise ApiError(409, f"Data type {data_type} has not been requested or is still "
                                "syncing; queue a sync first.")
        return records


def sync(cache: CompanyCache, ledger: Ledger, *, company_id: str, data_types: tuple[str, ...],
         now: datetime, new_id: object) -> list[Json]:
    """Copy `data_types` out of the books; return the pull operations it completed."""
    stamp = now.strftime("%Y-%m-%dT%H:%M:%SZ")
    completed: list[Json] = []
    for data_type in data_types:
        if data_type not in SYNCED_TYPES:
            raise ApiError(400, f"Data type {data_type} is not supported by this integration.")
        records = project(ledger, data_type)
        for record in records.values():
            record["modifiedDate"] = stamp  # (D) when Codat last wrote the record
        cache.data[data_type] = records
        pull_id = new_id() if callable(new_id) else str(new_id)
        pull: Json = {"id": pull_id, "companyId": company_id,
                      "connectionId": cache.connection_id, "dataType": data_type,
                      "status": "Complete", "statusDescription": None, "errorMessage": None,
                      "requested": stamp, "completed": stamp, "progress": 100,
                      "isCompleted": True, "isErrored": False}
        cache.pulls.append(pull)
        cache.statuses[data_type] = {"dataType": data_type, "currentStatus": "Complete",
                                     "lastSuccessfulSync": stamp, "latestSyncId": pull_id,
                                     "latestSuccessfulSyncId": pull_id}
        completed.append(pull)
    del cache.pulls[:-PULL_HISTORY_LIMIT]
    cache.last_sync = now
    return completed

"""The async Bill Pay spec beside the sync one: which spec an exchange belongs to.

The sandbox serves both APIs from one process. Their paths differ except companies and
connections, which both specs declare: an exchange on those is checked against both (the
sandbox answers once, so the answer must satisfy both). Operations are counted per spec as
`sync:<operationId>` and `async:<operationId>`.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from tests.support.openapi_contract import CodatContract, Verdict, codat_contract
from tests.support.openapi_exchange import HttpExchange
from tests.support.openapi_spec import REPO_ROOT, load_spec

ASYNC_SPEC_ENV = "BILLBOT_CODAT_ASYNC_SPEC"
ASYNC_SPEC_RELATIVE_TO_REPO = Path("..", "shared", "reference", "codat",
                                   "sync-for-payables-v1-async.openapi.yaml")
SPECS = ("sync", "async")


def async_spec_path() -> Path:
    override = os.environ.get(ASYNC_SPEC_ENV)
    return Path(override) if override else (REPO_ROOT / ASYNC_SPEC_RELATIVE_TO_REPO).resolve()


@functools.cache
def async_contract() -> CodatContract:
    """The async spec's contract, once per process.

    The spec is 1.6 MB of YAML: parsing and repairing it takes seconds, and validating the
    document itself (as the sync spec's contract does) tens of seconds per xdist worker.
    So the repaired spec is kept as JSON in the temp directory, keyed by the file's hash,
    and the document is not re-validated (the exchanges are).
    """
    return CodatContract(_repaired_spec(async_spec_path()), check_spec=False)


def _repaired_spec(path: Path) -> dict[str, Any]:
    digest = hashlib.sha256(path.read_bytes()).hexdigest()[:16]
    cached = Path(tempfile.gettempdir()) / f"billbot-codat-async-spec-{digest}.json"
    try:
        loaded: dict[str, Any] = json.loads(cached.read_text(encoding="utf-8"))
        return loaded
    except (OSError, ValueError):
        pass
    spec = load_spec(path)
    partial = cached.with_name(f"{cached.name}.{os.getpid()}.tmp")
    # YAML dates in examples become strings; examples are never validated
    partial.write_text(json.dumps(spec, default=str), encoding="utf-8")
    os.replace(partial, cached)  # whole or not at all, for concurrent workers
    return spec


def operation_ids() -> dict[str, frozenset[str]]:
    return {"sync": codat_contract().operation_ids, "async": async_contract().operation_ids}


def check_both(exchange: HttpExchange) -> list[tuple[str, Verdict]]:
    """(spec, Verdict) for every spec that has the exchange's operation.

    The sync spec is asked first; the async one when the sync spec has no such operation
    or when the path is a company/connection path both specs declare.
    """
    sync_verdict = codat_contract().check(exchange)
    if sync_verdict.operation_id is None:
        async_verdict = async_contract().check(exchange)
        # In neither spec: report it as the sync spec does (no operation of that path).
        return [("async", async_verdict) if async_verdict.operation_id else
                ("sync", sync_verdict)]
    if _shared(exchange.path):
        return [("sync", sync_verdict), ("async", async_contract().check(exchange))]
    return [("sync", sync_verdict)]


def _shared(path: str) -> bool:
    parts = path.strip("/").split("/")
    # /companies, /companies/{id}, /companies/{id}/connections[/{id}]
    return parts[0] == "companies" and (len(parts) <= 2 or (
        parts[2] == "connections" and len(parts) <= 4))


def coverage_lines(exercised: Iterable[str], all_ids: dict[str, frozenset[str]]) -> list[str]:
    """One line per spec: how many of its operations the run exercised, and which not."""
    seen = set(exercised)
    lines = []
    for spec in SPECS:
        ids = all_ids[spec]
        missing = sorted(op for op in ids if f"{spec}:{op}" not in seen)
        lines.append(f"  {spec} operations exercised: {len(ids) - len(missing)} of {len(ids)}"
                     + (f" (not: {', '.join(missing)})" if missing else ""))
    return lines

"""The `billbot` command: `run`, `demo`, `sandbox codat|slack`, `audit export`.

Each subcommand imports its module only when chosen, so `billbot sandbox codat` starts
without loading Bolt, and a configuration error in one does not break the others.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence


def _version() -> str:
    """The installed distribution's version (what pip and the wheel say)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("billbot")
    except PackageNotFoundError:  # run from a source tree that was never installed
        from billbot import __version__

        return __version__


def _workers(value: str) -> int:
    if not value.isdigit() or not 1 <= int(value) <= 64:
        raise argparse.ArgumentTypeError(f"a number of processes from 1 to 64, not {value!r}")
    return int(value)


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="billbot", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"billbot {_version()}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = sub.add_parser("run", help="serve Slack over HTTP (and Socket Mode with SLACK_APP_TOKEN)")
    run.add_argument("--host", default="0.0.0.0", help="interface to bind (default 0.0.0.0)")  # noqa: S104
    run.add_argument("--port", type=int, default=3000, help="port (default 3000)")
    run.add_argument("--workers", type=_workers, default=1,
                     help="processes sharing the port, each with its job worker "
                          "(PostgreSQL only; default 1)")

    demo = sub.add_parser("demo", help="the whole product offline: Codat sandbox, a local "
                                       "Slack page and billbot, no credentials")
    demo.add_argument("--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1)")
    demo.add_argument("--port", type=int, default=8080, help="port of the page (default 8080)")
    demo.add_argument("--data-dir", default=".billbot-demo",
                      help="where the SQLite file and logs go (default ./.billbot-demo)")
    demo.add_argument("--socket-mode", action="store_true",
                      help="billbot hears the local Slack over Socket Mode instead of HTTP")

    sandbox = sub.add_parser("sandbox", help="serve a stand-in alone")
    sandbox_sub = sandbox.add_subparsers(dest="sandbox", required=True, metavar="WHICH")
    codat = sandbox_sub.add_parser("codat", help="the Codat Bill Pay sandbox")
    codat.add_argument("--host", default="127.0.0.1")
    codat.add_argument("--port", type=int, default=8765)
    codat.add_argument("--rate-limits", action="store_true",
                       help="answer 429 beyond Codat's 1,000 requests a minute per address "
                            "and 10 at once per company")
    slack = sandbox_sub.add_parser("slack", help="the local Slack workspace (Web API)")
    slack.add_argument("--host", default="127.0.0.1")
    slack.add_argument("--port", type=int, default=8766)

    audit = sub.add_parser("audit", help="read the audit trail")
    audit_sub = audit.add_subparsers(dest="audit", required=True, metavar="ACTION")
    export = audit_sub.add_parser("export", help="write the audit log to standard output")
    export.add_argument("--format", choices=["csv", "jsonl"], default="jsonl")
    export.add_argument("--since", default=None, help="YYYY-MM-DD: only entries from that day on")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _build_parser().parse_args(argv)
    if args.command == "sandbox" and args.sandbox == "slack":
        from billbot.sandbox.slack.cli import serve as serve_slack

        return serve_slack(host=args.host, port=args.port)
    if args.command == "sandbox":
        from billbot.sandbox.codat.server import serve

        return int(serve(host=args.host, port=args.port, rate_limits=args.rate_limits))
    if args.command == "run":
        from billbot.server import serve_bot

        return serve_bot(host=args.host, port=args.port, workers=args.workers)
    if args.command == "demo":
        from pathlib import Path

        from billbot.demo import run_demo

        return run_demo(host=args.host, port=args.port, data_dir=Path(args.data_dir),
                        socket_mode=args.socket_mode)
    if args.command == "audit":
        from billbot.audit_export import export_audit

        return export_audit(fmt=args.format, since=args.since, out=sys.stdout)
    raise AssertionError(f"unhandled command {args.command}")  # argparse rejects others


if __name__ == "__main__":
    sys.exit(main())

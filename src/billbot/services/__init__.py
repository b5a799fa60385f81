"""The money services: roles, channel bindings, approvals, payments, recovery.

Convention: database work is a plain synchronous function whose first argument is the
`Session` of ONE short transaction (`billbot.storage.db.session_scope`); async callers run
it on a worker thread (`billbot.runtime.Billbot.db(lambda s: ...)` does exactly that). Time
comes in as `at=` from the injected clock. Work that talks to Codat spans several transactions and lives
in `payment_runner.PaymentRunner`, whose methods are async. Whether a bill may be paid is
decided in `payability` (the Slack layer shows those answers, never restates them).
"""

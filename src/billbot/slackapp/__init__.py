"""The Slack layer: Bolt wiring (app.py, request_gate.py), the flows behind each listener
(commands_flow.py, approvals_flow.py, payments_flow.py, with the steps they share in
interactions.py), publishing digests (digests.py) and rows (rows.py), showing payment outcomes
(payment_outcomes.py), and the Block Kit builders (blocks.py, row_model.py, audit_text.py).

It only renders the answers of billbot.services and billbot.domain; no rule lives here.
"""

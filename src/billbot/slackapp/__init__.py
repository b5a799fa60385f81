"""The Slack side: Bolt app wiring, thin handlers and Block Kit views."""

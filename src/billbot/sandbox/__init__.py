"""Stand-ins that ship with the product: the Codat Bill Pay sandbox and a local Slack."""

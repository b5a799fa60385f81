"""A stand-in for the Slack Web API that records every call and checks Block Kit limits."""

"""The Slack Web API client as billbot uses it: paced posts, Retry-After, fresh block_ids."""

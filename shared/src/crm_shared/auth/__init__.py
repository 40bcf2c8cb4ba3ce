"""Staff roles and API bearer tokens, verified the same way by every service."""

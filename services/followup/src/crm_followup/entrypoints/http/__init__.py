"""HTTP routes of the follow-up service."""

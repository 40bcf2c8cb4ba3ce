"""Command-line tools: `crm-intake-admin` (users, tokens) and `crm-intake-import` (CSV)."""

"""Demo data for Warm Yang CRM, loaded through intake's HTTP API (`make demo`)."""

"""Intake's HTTP API under /api/v1 (SPEC §5): thin routes over `crm_intake.service`."""

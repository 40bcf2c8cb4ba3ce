"""Intake's use cases, called by the HTTP API, the web forms, the consumers and the CLIs.

Each public function takes an `IntakeContext` (built once by `bootstrap`) and, for changes,
the `Actor` making them; it runs in one transaction with its events and audit records,
and raises `crm_intake.domain.errors.IntakeError` subclasses to refuse.
"""

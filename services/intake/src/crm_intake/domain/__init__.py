"""Intake's rules: enterprises, contacts, interactions, the lifecycle. Pure: no I/O here."""

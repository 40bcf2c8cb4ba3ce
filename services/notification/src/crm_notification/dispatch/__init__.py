"""Sending: the background job that claims due deliveries, sends them and records the outcome."""

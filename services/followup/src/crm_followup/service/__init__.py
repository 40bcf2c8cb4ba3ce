"""Orchestration: apply events to projections and plans; dispatch due follow-ups."""

"""Pure follow-up rules: sending calendar, frequency cap, planning and dispatch decisions.

Nothing here does I/O or reads settings; time comes in as arguments.
"""

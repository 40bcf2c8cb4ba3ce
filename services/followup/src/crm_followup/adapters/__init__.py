"""MongoDB storage of follow-up's projections and scheduled follow-ups."""

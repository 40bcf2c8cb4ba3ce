"""Follow-up rules: the versioned rules file, its models and its loader."""

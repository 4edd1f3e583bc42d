"""Use cases of enrollment."""

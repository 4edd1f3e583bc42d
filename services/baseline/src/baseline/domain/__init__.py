"""Pure rules of baseline."""

"""Pure rules of the hours and points banks (no I/O)."""

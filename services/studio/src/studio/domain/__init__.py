"""Pure rules of studio."""

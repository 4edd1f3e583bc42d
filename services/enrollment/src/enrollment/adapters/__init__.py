"""Storage and outside-world adapters of enrollment."""

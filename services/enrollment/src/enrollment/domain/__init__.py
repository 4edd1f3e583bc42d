"""Pure rules of enrollment: no I/O here."""

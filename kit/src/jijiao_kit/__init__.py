"""jijiao infrastructure kit: messaging, outbox relay, idempotent consuming, auth verification,
problem+json errors, settings base, health and metrics. It holds no domain code."""

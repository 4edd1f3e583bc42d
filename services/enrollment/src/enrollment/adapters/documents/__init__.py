"""Printable documents (PDF) of enrollment."""

"""Enrollment service: roster, accounts and login, terms, catalogue, selection, bills, results."""

"""Notify service: contact book, SMS and email delivery, verification codes, delivery log."""

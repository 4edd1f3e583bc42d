"""Email through real SMTP (aiosmtplib): a plain-text part, plus the same text as HTML."""

from __future__ import annotations

import html
from email.message import EmailMessage
from email.utils import formataddr, make_msgid

import aiosmtplib

from notify.adapters.channels import Outgoing, ProviderError, RejectedError


def build_message(message: Outgoing, *, sender_name: str, sender: str) -> EmailMessage:
    email = EmailMessage()
    email["From"] = formataddr((sender_name, sender))
    email["To"] = message.to
    email["Subject"] = message.subject or ""
    email["Message-ID"] = make_msgid(idstring=message.message_id.replace(":", "."), domain=sender.split("@")[-1])
    email["X-Jijiao-Notice"] = message.message_id
    email.set_content(message.text)  # text/plain; charset=utf-8
    paragraphs = "".join(f"<p>{html.escape(line)}</p>" for line in message.text.split("\n") if line.strip())
    email.add_alternative(f"<html><body>{paragraphs}</body></html>", subtype="html")
    return email


class SmtpMailer:
    def __init__(
        self,
        host: str,
        port: int,
        *,
        sender: str,
        sender_name: str,
        username: str | None = None,
        password: str | None = None,
        start_tls: bool = False,
        timeout: float = 10.0,
    ) -> None:
        self.host = host
        self.port = port
        self.sender = sender
        self.sender_name = sender_name
        self.username = username
        self.password = password
        self.start_tls = start_tls
        self.timeout = timeout

    async def send(self, message: Outgoing) -> str:
        email = build_message(message, sender_name=self.sender_name, sender=self.sender)
        try:
            await aiosmtplib.send(
                email,
                hostname=self.host,
                port=self.port,
                username=self.username,
                password=self.password,
                start_tls=self.start_tls,
                timeout=self.timeout,
            )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            raise RejectedError("SMTP server refused the recipient") from exc
        except (aiosmtplib.SMTPException, OSError) as exc:
            raise ProviderError(f"SMTP failure: {type(exc).__name__}") from exc
        return str(email["Message-ID"])

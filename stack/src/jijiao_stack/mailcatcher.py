"""A development mail catcher: an SMTP server that keeps every message as an .eml file.

``python -m jijiao_stack.mailcatcher --port 1025 --dir var/mail``; ``make up`` and the end-to-end
tests start it so notify sends real SMTP and a person (or a test) can read what arrived."""

from __future__ import annotations

import argparse
import asyncio
import time
import uuid
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller


class SaveToFolder:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        name = f"{time.time_ns()}-{uuid.uuid4().hex[:6]}.eml"
        temp = self.folder / f".{name}.tmp"
        temp.write_bytes(envelope.original_content or envelope.content)
        temp.rename(self.folder / name)  # readers never see half a message
        return "250 Message accepted"


def read_messages(folder: Path) -> list[EmailMessage]:
    """The caught messages, oldest first."""
    messages = []
    for path in sorted(folder.glob("*.eml")):
        message = message_from_bytes(path.read_bytes(), policy=policy.default)
        assert isinstance(message, EmailMessage)
        messages.append(message)
    return messages


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=1025)
    parser.add_argument("--dir", type=Path, default=Path("var/mail"))
    args = parser.parse_args()
    controller = Controller(SaveToFolder(args.dir), hostname=args.host, port=args.port)
    controller.start()
    print(f"mail catcher on {args.host}:{args.port}, saving to {args.dir}", flush=True)
    try:
        asyncio.run(asyncio.Event().wait())
    finally:
        controller.stop()


if __name__ == "__main__":
    main()

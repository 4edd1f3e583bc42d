"""Rich text from users, sanitised with nh3 (the allow-list HTML cleaner) before it is stored."""

from __future__ import annotations

import nh3


def clean_html(html: str) -> str:
    return nh3.clean(html, link_rel="noopener noreferrer nofollow")

"""Chinese notice texts. Values are inserted with ``str.format_map`` on a fixed set of names only,
so user data (a name with braces, say) can never reach template syntax."""

from __future__ import annotations

import string
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Template:
    key: str
    version: int
    text: str

    def fields(self) -> set[str]:
        return {name for _, name, _, _ in string.Formatter().parse(self.text) if name}

    def render(self, values: dict[str, Any]) -> str:
        missing = self.fields() - values.keys()
        if missing:
            raise KeyError(f"template {self.key} misses {sorted(missing)}")
        return self.text.format_map({name: str(values[name]) for name in self.fields()})


WELCOME_TEACHER = Template(
    key="teacher_welcome",
    version=1,
    text=(
        "{name}老师您好，您已加入{school_name}，继续教育学号为{ce_number}。"
        "初始密码为身份证号后六位，请登录广州继教网后及时修改密码。"
    ),
)

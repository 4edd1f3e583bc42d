"""Names refuse control and format characters (issue 12 item 11): NUL, bidi overrides, BOM, zero-width,
line/paragraph separators, private use; every script's letters, marks and ordinary spaces stay."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, Field, ValidationError

from jijiao_kit.names import Name, refused_characters


class Person(BaseModel):
    name: Name = Field(min_length=1, max_length=50)


@pytest.mark.parametrize(
    "bad",
    [
        "陈\x00晓明",
        "\u202emoc.evil",
        "\ufeff王海燕",
        "李\u200d静",
        "张\u2028伟",
        "赵\u2029",
        "\ue000私",
        "tab\tname",
        "a\x7f",
    ],
)
def test_refused(bad: str) -> None:
    assert refused_characters(bad)
    with pytest.raises(ValidationError):
        Person(name=bad)


@pytest.mark.parametrize(
    "good", ["陈晓明", "欧阳 娜娜", "Zoë O'Brien-Smith", "阿卜杜·热合曼", "天河区第一实验小学（东校区）", "Đặng"]
)
def test_accepted(good: str) -> None:
    assert Person(name=good).name == good

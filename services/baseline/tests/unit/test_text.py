import pytest

from baseline.domain.text import check_line, check_paragraphs, refused


@pytest.mark.parametrize(
    "text", ["\x00", "\x01", "\x1f", "\x7f", "\x85", "\u200b", "\u202e", "\ufeff", "\u2028", "\ue000", "\ufffe",
             "\uffff", "\ufdd0", "\U0001ffff", "\ud800"],
)  # fmt: skip
def test_control_format_and_non_characters_are_refused_in_any_text(text: str) -> None:
    assert refused(f"张{text}三") and refused(f"张{text}三", lines=True)
    with pytest.raises(ValueError, match="control"):
        check_paragraphs(f"张{text}三")


def test_lines_keep_letters_and_spaces_paragraphs_also_tabs_and_breaks() -> None:
    for ok in ("张三", "Zhang San", "=1+1", "北京市 海淀区（一零一）", "🙂", "Ä"):
        assert check_line(ok) == ok and check_paragraphs(ok) == ok
    assert check_paragraphs("一、背景\r\n\t二、做法") == "一、背景\r\n\t二、做法"
    assert refused("一\n二") == ["U+000A"]
    with pytest.raises(ValueError):
        check_line("一\t二")

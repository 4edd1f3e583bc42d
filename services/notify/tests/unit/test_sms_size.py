from __future__ import annotations

import pytest

from notify.domain.sms import signed, size


@pytest.mark.parametrize(
    ("length", "segments"),
    [(0, 0), (1, 1), (70, 1), (71, 2), (134, 2), (135, 3), (201, 3), (202, 4)],
)
def test_segments(length: int, segments: int) -> None:
    assert size("字" * length).segments == segments
    assert size("字" * length).length == length


def test_signature_counts() -> None:
    text = signed("字" * 63, "广州继教网")
    assert text.startswith("【广州继教网】")
    assert size(text) == size("字" * 70)
    assert size(signed("字" * 64, "广州继教网")).segments == 2

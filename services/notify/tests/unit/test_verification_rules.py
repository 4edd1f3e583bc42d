from __future__ import annotations

from notify.domain.verification import code_matches, hash_code, mask_mobile, new_code, token_purpose


def test_codes_are_six_digits_and_vary() -> None:
    codes = {new_code() for _ in range(500)}
    assert all(len(c) == 6 and c.isdigit() for c in codes)
    assert len(codes) > 450


def test_hash_is_keyed_and_salted() -> None:
    stored = hash_code("123456", salt="v1", pepper="p")
    assert "123456" not in stored
    assert code_matches("123456", stored, salt="v1", pepper="p")
    assert not code_matches("123457", stored, salt="v1", pepper="p")
    assert not code_matches("123456", stored, salt="v2", pepper="p")
    assert not code_matches("123456", stored, salt="v1", pepper="q")


def test_mask_and_token_purpose() -> None:
    assert mask_mobile("13800000000") == "138****0000"
    assert token_purpose("export", None) == "export"
    assert token_purpose("rebind_phone", "13912345678") == "rebind_phone:13912345678"

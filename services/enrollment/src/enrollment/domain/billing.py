"""Bills and payments (DOMAIN §3): pure rules, no I/O.

Amount due (seed: school-admin-and-teacher-platform-manual, 培训缴费工作 ③): the city programme's amount
is "市级全员培训【含远程培训、面授培训、公需课的培训费三类，公需课的资料费不在此列。】应交费金额" — the training fees
(培训费) of the three kinds of city courses: remote, face-to-face and public courses. Material fees are not
part of it; the seed names the public course's material fee (资料费) explicitly because it is the one that
shows in the exported admission table, and it is paid elsewhere. So a city-run selection is billed its
training fee only. Every other programme (district, special, school-based) is billed training +
material (the admission query's 合计), e.g. the district bills for district courses. The
ability-improvement project is part of the city-wide programme (全员培训) and follows the city rule.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

#: Programmes run by the city (全员培训): their bills follow the city amount rule and unpaid selections
#: at the payment deadline make the teacher a special user.
CITY_RUN_PROGRAMMES = frozenset({"city", "ability"})

BILL_UNPAID = "unpaid"
BILL_PARTIALLY_PAID = "partially_paid"
BILL_PAID = "paid"
BILL_VOID = "void"

CENT = Decimal("0.01")


class PaymentRejected(Exception):
    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail


def fen_to_yuan(fen: int) -> Decimal:
    return (Decimal(int(fen)) / 100).quantize(CENT)


def yuan_to_fen(yuan: Decimal) -> int:
    """Yuan with at most two decimals to integer fen (more decimals are refused, not rounded)."""
    quantized = yuan.quantize(CENT, rounding=ROUND_HALF_UP)
    if quantized != yuan:
        raise ValueError("money has at most two decimal places")
    return int(quantized * 100)


def due_fen(selection: Mapping[str, Any]) -> int:
    """What one selection adds to its school's bill, in fen (the rule in the module docstring)."""
    training = int(selection.get("training_fee_fen") or 0)
    material = int(selection.get("material_fee_fen") or 0)
    if selection.get("programme") in CITY_RUN_PROGRAMMES:
        return training  # 远程、面授、公需课的培训费三类；公需课的资料费不在此列
    return training + material


def is_billable(selection: Mapping[str, Any]) -> bool:
    """Active, not yet on a bill, and something to pay."""
    return selection.get("status") == "active" and not selection.get("bill_id") and due_fen(selection) > 0


def bill_id(term: str, school_id: str, payee: str) -> str:
    """One bill per term × school × payee: a deterministic id makes issuing idempotent (unique _id)."""
    digest = hashlib.sha1(f"{term}\x1f{school_id}\x1f{payee}".encode()).hexdigest()[:20]
    return f"b{digest}"


def bill_name(term: str, school_name: str, payee: str) -> str:
    return f"{term}期 {school_name} 培训费（收费单位：{payee}）"


@dataclass(frozen=True)
class BillDraft:
    term: str
    school_id: str
    payee: str
    amount_fen: int
    selection_ids: tuple[str, ...]
    teacher_count: int
    programmes: tuple[str, ...]


def draft_bills(term: str, selections: Iterable[Mapping[str, Any]]) -> list[BillDraft]:
    """Group the billable selections of a term by school and payee (one bill each)."""
    groups: dict[tuple[str, str], list[Mapping[str, Any]]] = {}
    for selection in selections:
        if selection.get("term") != term or not is_billable(selection):
            continue
        groups.setdefault((str(selection["school_id"]), str(selection.get("payee") or "")), []).append(selection)
    drafts = []
    for (school_id, payee), items in sorted(groups.items()):
        items = sorted(items, key=lambda s: str(s["_id"]))
        drafts.append(
            BillDraft(
                term=term,
                school_id=school_id,
                payee=payee,
                amount_fen=sum(due_fen(s) for s in items),
                selection_ids=tuple(str(s["_id"]) for s in items),
                teacher_count=len({s["ce_number"] for s in items}),
                programmes=tuple(sorted({str(s.get("programme")) for s in items})),
            )
        )
    return drafts


def bill_status(amount_fen: int, paid_fen: int) -> str:
    """Unpaid, partially paid or paid; a bill left with nothing to pay and nothing paid (every
    selection on it was deleted) is void."""
    if paid_fen <= 0:
        return BILL_VOID if amount_fen <= 0 else BILL_UNPAID
    if paid_fen >= amount_fen:
        return BILL_PAID
    return BILL_PARTIALLY_PAID


def outstanding_fen(amount_fen: int, paid_fen: int) -> int:
    """What the school still owes (未缴金额); never negative."""
    return max(amount_fen - paid_fen, 0)


def overpaid_fen(amount_fen: int, paid_fen: int) -> int:
    """What was paid beyond the bill after selections were deleted from a paid bill (多缴金额): the
    payment stays recorded and the difference is shown, since refunds are settled outside the system."""
    return max(paid_fen - amount_fen, 0)


# --- bills that follow late changes ------------------------------------------------------------------


def is_chargeable(selection: Mapping[str, Any]) -> bool:
    """Belongs on its school's bill: active and something to pay (whether billed already or not)."""
    return selection.get("status") == "active" and due_fen(selection) > 0


@dataclass(frozen=True)
class BillContent:
    """What a bill asks for, derived from the chargeable selections of its term × school × payee."""

    amount_fen: int
    selection_ids: tuple[str, ...]
    teacher_count: int
    lines: dict[str, dict[str, Any]]
    programmes: tuple[str, ...]
    district: str | None = None

    @property
    def selection_count(self) -> int:
        return len(self.selection_ids)

    def same_as(self, bill: Mapping[str, Any]) -> bool:
        """Whether a stored bill already shows exactly this content."""
        return (
            int(bill.get("amount_fen") or 0) == self.amount_fen
            and list(bill.get("selection_ids") or []) == list(self.selection_ids)
            and int(bill.get("teacher_count") or 0) == self.teacher_count
            and int(bill.get("selection_count") or 0) == self.selection_count
            and dict(bill.get("lines") or {}) == self.lines
            and list(bill.get("programmes") or []) == list(self.programmes)
        )


def bill_content(selections: Iterable[Mapping[str, Any]]) -> BillContent:
    """The content of one bill from its group's selections (non-chargeable ones are left out)."""
    items = sorted((s for s in selections if is_chargeable(s)), key=lambda s: str(s["_id"]))
    lines: dict[str, dict[str, Any]] = {}
    for selection in items:
        code = str(selection["course_code"])
        line = lines.setdefault(
            code,
            {
                "course_code": selection["course_code"],
                "course_name": selection.get("course_name"),
                "count": 0,
                "amount_fen": 0,
            },
        )
        line["count"] += 1
        line["amount_fen"] += due_fen(selection)
    return BillContent(
        amount_fen=sum(due_fen(s) for s in items),
        selection_ids=tuple(str(s["_id"]) for s in items),
        teacher_count=len({s["ce_number"] for s in items}),
        lines=lines,
        programmes=tuple(sorted({str(s.get("programme")) for s in items})),
        district=next((str(s["district"]) for s in items if s.get("district")), None),
    )


def group_by_payee(selections: Iterable[Mapping[str, Any]]) -> dict[str, list[Mapping[str, Any]]]:
    """One school's chargeable selections of a term, by payee (one bill each)."""
    groups: dict[str, list[Mapping[str, Any]]] = {}
    for selection in selections:
        if is_chargeable(selection):
            groups.setdefault(str(selection.get("payee") or ""), []).append(selection)
    return groups


def draft_groups(selections: Iterable[Mapping[str, Any]]) -> dict[tuple[str, str], list[Mapping[str, Any]]]:
    """A term's chargeable selections by school and payee."""
    groups: dict[tuple[str, str], list[Mapping[str, Any]]] = {}
    for selection in selections:
        if is_chargeable(selection):
            key = (str(selection["school_id"]), str(selection.get("payee") or ""))
            groups.setdefault(key, []).append(selection)
    return groups


def bills_follow_changes(closes_at: datetime | None, bills_issued: bool, now: datetime) -> bool:
    """Selections of a term change its bills once the window has closed (or bills were issued);
    while the window is open, the issuing after it takes them as they are."""
    return bills_issued or (closes_at is not None and closes_at <= now)


@dataclass(frozen=True)
class PaymentOutcome:
    paid_fen: int
    status: str
    paid_in_full: bool


def apply_payment(amount_fen: int, paid_fen: int, payment_fen: int) -> PaymentOutcome:
    """A payment of ``payment_fen`` on a bill of ``amount_fen`` of which ``paid_fen`` is paid already.

    Partial payments are allowed; paying more than what is outstanding is refused."""
    if payment_fen <= 0:
        raise PaymentRejected("invalid_amount", "A payment must be a positive amount.")
    outstanding = amount_fen - paid_fen
    if amount_fen <= 0 and paid_fen <= 0:
        raise PaymentRejected("bill_void", "Every selection on this bill was deleted; nothing is due.")
    if outstanding <= 0:
        raise PaymentRejected("bill_already_paid", "The bill is already paid in full.")
    if payment_fen > outstanding:
        raise PaymentRejected(
            "payment_exceeds_due", f"The payment ({payment_fen} fen) exceeds what is outstanding ({outstanding} fen)."
        )
    new_paid = paid_fen + payment_fen
    status = bill_status(amount_fen, new_paid)
    return PaymentOutcome(paid_fen=new_paid, status=status, paid_in_full=status == BILL_PAID)


def payment_key(reference: str) -> str:
    """Map key of a payment reference (references may hold '.' or '$', which keys may not)."""
    return "p" + hashlib.sha1(reference.encode()).hexdigest()[:24]


_DIGITS = "零壹贰叁肆伍陆柒捌玖"
_UNITS = ["", "拾", "佰", "仟"]
_SECTIONS = ["", "万", "亿", "万亿"]


def _four_digits(number: int) -> str:
    out = ""
    zero = False
    for position in range(3, -1, -1):
        digit = number // 10**position % 10
        if digit == 0:
            zero = bool(out)
            continue
        if zero:
            out += "零"
            zero = False
        out += _DIGITS[digit] + _UNITS[position]
    return out


def amount_in_words(fen: int) -> str:
    """人民币大写 as printed on payment notices, e.g. 12345 fen → 壹佰贰拾叁元肆角伍分."""
    if fen < 0:
        raise ValueError("negative amount")
    yuan, rest = divmod(int(fen), 100)
    jiao, cents = divmod(rest, 10)
    words = ""
    if yuan:
        sections: list[str] = []
        index = 0
        need_zero = False
        while yuan:
            yuan, part = divmod(yuan, 10000)
            if part:
                text = _four_digits(part) + _SECTIONS[index]
                if need_zero:
                    text += "零"
                sections.insert(0, text)
                need_zero = part < 1000
            elif sections:
                need_zero = True
            index += 1
        words = "".join(sections)
        if words.startswith("零"):
            words = words[1:]
        words = words.rstrip("零") + "元"
    if not jiao and not cents:
        return (words or "零元") + "整"
    if jiao:
        words += _DIGITS[jiao] + "角"
    elif words:
        words += "零"
    if cents:
        words += _DIGITS[cents] + "分"
    else:
        words += "整"
    return words

"""表4 / 表12 rows: the seed's rates, groups by size, a 总计 row, and "-" for a rate of nothing."""

from __future__ import annotations

from studio.domain.community import Learner, learning_rows


def test_rates_follow_the_seed_and_groups_come_largest_first() -> None:
    learners = [
        Learner("越秀区", True, 1, 0),
        Learner("天河区", True, 2, 1),
        Learner("天河区", False, 0, 0),
        Learner("", True, 0, 0),  # a teacher the directory does not place
    ]
    rows = learning_rows(learners)
    assert [r["group"] for r in rows] == ["天河区", "其他", "越秀区", "总计"]
    tianhe = rows[0]
    assert (tianhe["participants"], tianhe["studied"], tianhe["passed"], tianhe["works"]) == (2, 1, 1, 2)
    assert (tianhe["learning_rate"], tianhe["pass_rate"]) == ("50.00%", "100%")
    assert (tianhe["submission_rate"], tianhe["excellent_rate"]) == ("100%", "50.00%")
    assert rows[1]["excellent_rate"] == "-"  # no works: nothing to rate
    assert rows[-1]["participants"] == 4 and rows[-1]["pass_rate"] == "66.67%"


def test_no_learners_is_a_total_of_nothing() -> None:
    (total,) = learning_rows([])
    assert total["group"] == "总计" and total["participants"] == 0 and total["learning_rate"] == "-"

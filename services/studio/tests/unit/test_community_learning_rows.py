"""表4, 表12/表13 and 表10 rows: the seed's rates, groups by size, the seed's total rows, and "-" for a rate of
nothing."""

from __future__ import annotations

from typing import Any

from studio.domain.community import (
    ASSIGNMENT_COLUMNS,
    LEARNING_COLUMNS,
    AssignmentRow,
    Learner,
    assignment_rows,
    assistant_rows,
    learning_rows,
)

LEARNERS = [
    Learner("越秀区", True, 1, 0, 1),
    Learner("天河区", True, 2, 1, 2),
    Learner("天河区", False, 0, 0),
    Learner("", True, 0, 0),  # a teacher the directory does not place
    Learner("越秀区", True, 1, 0, 0),  # handed in, not graded 合格 (ungraded or 不合格): not passed
]


def test_rates_follow_the_seed_and_groups_come_largest_first() -> None:
    rows = learning_rows(LEARNERS)
    assert [r["group"] for r in rows] == ["天河区", "越秀区", "其他", "总计"]
    tianhe = rows[0]
    assert (tianhe["participants"], tianhe["studied"], tianhe["passed"], tianhe["works"]) == (2, 1, 1, 2)
    assert (tianhe["learning_rate"], tianhe["pass_rate"]) == ("50.00%", "100%")
    yuexiu = rows[1]
    assert (yuexiu["studied"], yuexiu["passed"], yuexiu["works"], yuexiu["pass_rate"]) == (2, 1, 2, "50.00%")
    assert rows[-1]["participants"] == 5 and rows[-1]["passed"] == 2 and rows[-1]["pass_rate"] == "50.00%"
    assert set(tianhe) == {"group", *(key for key, _ in LEARNING_COLUMNS)}  # 表4's columns, no more
    assert [h for _, h in LEARNING_COLUMNS] == [
        "选修人数",
        "学习人数",
        "学习率(%)",
        "通过人数",
        "通过率(%)",
        "作品提交情况",
    ]


def test_no_learners_is_a_total_of_nothing() -> None:
    (total,) = learning_rows([])
    assert total["group"] == "总计" and total["participants"] == 0 and total["learning_rate"] == "-"
    (total12,) = assignment_rows([])
    assert total12.group == "总计" and total12.submission_rate == "-" and total12.pass_rate == "-"


def test_assignment_rows_carry_table_12_and_13_columns_and_totals() -> None:
    rows = assignment_rows(LEARNERS)
    assert [r.group for r in rows] == ["天河区", "越秀区", "其他", "总计"]
    assert rows[0] == AssignmentRow("天河区", 2, 2, "100%", 2, "100%", 1, "50.00%")
    assert rows[1] == AssignmentRow("越秀区", 2, 2, "100%", 1, "50.00%", 0, "0.00%")  # 合格数 from grades
    assert rows[2].excellent_rate == "-" and rows[2].pass_rate == "-"  # nothing submitted: nothing to rate
    assert rows[-1] == AssignmentRow("总计", 5, 4, "80.00%", 3, "75.00%", 1, "25.00%")
    assert assignment_rows(LEARNERS, "合计")[-1].group == "合计"  # 表13's total row
    assert set(rows[0].as_dict()) == {"group", *(key for key, _ in ASSIGNMENT_COLUMNS)}
    assert [h for _, h in ASSIGNMENT_COLUMNS] == [
        "参训人数",
        "研修作业提交数",
        "研修作业提交率",
        "研修作业合格数",
        "研修作业合格率",
        "推荐优秀数",
        "推荐优秀率",
    ]


def test_assignment_rates_of_the_seed() -> None:
    """表12 南沙区: 3541 participants, 3464 submitted (97.83%), 3463 合格 (99.97%), 216 recommended (6.24%)."""
    learners = [Learner("南沙区", True, int(n < 3464), int(n < 216), int(n < 3463)) for n in range(3541)]
    row = assignment_rows(learners)[0]
    assert (row.participants, row.submitted, row.submission_rate) == (3541, 3464, "97.83%")
    assert (row.recommended, row.excellent_rate) == (216, "6.24%")
    assert (row.passed, row.pass_rate) == (3463, "99.97%")


def test_learner_of_a_statistics_record_reads_its_grades() -> None:
    """The reader's record of a participant: ``passed`` is the assignments graded 合格 (none before any)."""
    record = {"district": "天河区", "subject": "语文", "studied": 1, "assignments": 2, "recommended": 0, "passed": 1}
    assert Learner.of(record, "subject") == Learner("语文", True, 2, 0, 1)
    assert Learner.of({**record, "passed": 0}, "district").passed == 0
    assert learning_rows([Learner.of({**record, "passed": 0}, "district")])[0]["passed"] == 0


#: 表10 2016年研修助理工作情况: district, 配置助理数, 完成工作数, 完成比例.
TABLE_10 = [
    ("局属学校", 150, 49, "32.67%"),
    ("越秀区", 42, 3, "7.14%"),
    ("海珠区", 115, 43, "37.39%"),
    ("荔湾区", 142, 18, "12.68%"),
    ("天河区", 279, 87, "31.18%"),
    ("白云区", 608, 244, "40.13%"),
    ("黄埔区", 109, 4, "3.67%"),
    ("花都区", 68, 61, "89.71%"),
    ("番禺区", 573, 255, "44.50%"),
    ("南沙区", 110, 26, "23.64%"),
    ("增城区", 117, 24, "20.51%"),
    ("从化区", 299, 98, "32.78%"),
]


def test_assistant_rows_are_the_seed_table_10_with_its_total() -> None:
    """完成比例 = 完成工作数 / 配置助理数; an assistant completed their work when every assigned task is done."""
    assistants: list[dict[str, Any]] = []
    for district, configured, completed, _ in TABLE_10:
        for n in range(configured):
            done = n < completed
            # two tasks each: the ones who completed did both; one in three of the others did one
            assistants.append({"district": district, "assigned": 2, "completed": 2 if done else int(n % 3 == 0)})
    assistants.append({"district": "越秀区", "assigned": 0, "completed": 0})  # nothing assigned: not completed
    rows = {r["district"]: r for r in assistant_rows(assistants)}
    for district, configured, completed, rate in TABLE_10:
        extra = int(district == "越秀区")
        expected_rate = rate if not extra else "6.98%"  # 3 / 43 with the one without tasks
        assert (rows[district]["configured"], rows[district]["completed"]) == (configured + extra, completed)
        assert rows[district]["completion_rate"] == expected_rate
    total = list(rows.values())[-1]
    assert total["district"] == "合计" and (total["configured"], total["completed"]) == (2613, 912)
    exact = {r["district"]: r for r in assistant_rows(assistants[:-1])}
    assert all(exact[d]["completion_rate"] == rate for d, _, _, rate in TABLE_10)
    assert (exact["合计"]["configured"], exact["合计"]["completed"], exact["合计"]["completion_rate"]) == (
        2612,
        912,
        "34.92%",
    )
    assert exact["局属学校"]["tasks_assigned"] == 300 and exact["局属学校"]["tasks_completed"] == 49 * 2 + 33
    assert assistant_rows([]) == [
        {
            "district": "合计",
            "configured": 0,
            "completed": 0,
            "tasks_assigned": 0,
            "tasks_completed": 0,
            "completion_rate": "-",
        }
    ]

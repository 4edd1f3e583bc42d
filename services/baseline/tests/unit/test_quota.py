from baseline.domain.quota import yearly_quota


def test_a_zone_gets_seven_batches_of_five() -> None:
    quota = yearly_quota(rewarded_last_year=False)
    assert (quota.batches, quota.batch_size, quota.person_times) == (7, 5, 35)


def test_a_rewarded_zone_gets_two_batches_more() -> None:
    quota = yearly_quota(rewarded_last_year=True)
    assert (quota.reward_batches, quota.person_times) == (2, 45)

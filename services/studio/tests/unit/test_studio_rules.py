from studio.domain.studios import StudioType, has_assistants, member_quota


def test_member_quotas_follow_the_studio_type() -> None:
    assert member_quota(StudioType.EXPERT) == (5, 8)
    assert member_quota(StudioType.PRINCIPAL) == (5, 8)
    assert member_quota(StudioType.TEACHER) == (8, 12)


def test_only_expert_studios_have_assistants() -> None:
    assert has_assistants(StudioType.EXPERT)
    assert not has_assistants(StudioType.PRINCIPAL)
    assert not has_assistants(StudioType.TEACHER)

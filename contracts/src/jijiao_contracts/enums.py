"""Enumerations shared by several services' events."""

from enum import StrEnum


class HourCategory(StrEnum):
    """学时类别: public 公需, professional 专业, elective 个人选修."""

    PUBLIC = "public"
    PROFESSIONAL = "professional"
    ELECTIVE = "elective"


class Stage(StrEnum):
    """学段."""

    KINDERGARTEN = "kindergarten"
    PRIMARY = "primary"
    JUNIOR = "junior"
    SENIOR = "senior"
    VOCATIONAL = "vocational"


class Role(StrEnum):
    TEACHER = "teacher"
    SCHOOL_ADMIN = "school_admin"
    PRINCIPAL = "principal"
    DISTRICT_ADMIN = "district_admin"
    CITY_ADMIN = "city_admin"
    INSTITUTION = "institution"
    RESEARCH_OFFICE = "research_office"
    REMOTE_CENTRE = "remote_centre"
    STUDIO_HOST = "studio_host"
    STUDIO_ASSISTANT = "studio_assistant"
    STUDIO_MEMBER = "studio_member"
    ONLINE_STUDENT = "online_student"
    BASE_ADMIN = "base_admin"
    ZONE_CONTACT = "zone_contact"
    TRAINEE = "trainee"

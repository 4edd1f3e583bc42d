"""baseline service: National research-base programme (研修基地): zones, bases, quotas, demands, trainees."""

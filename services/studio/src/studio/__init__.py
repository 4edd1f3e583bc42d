"""studio service: Research studios (名师工作室): applications, stages, activities, members, evaluations."""

"""Admin for playbooks (alerts, milestones, journeys): none of its models exist yet."""

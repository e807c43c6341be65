"""Playbooks: alert rules, milestones and journeys that target segments (not built yet)."""

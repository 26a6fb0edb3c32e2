"""Engagement: customers, identity links, response tasks and their audit trail."""

"""Shared foundations: settings, database, logging, time."""

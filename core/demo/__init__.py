"""Bundled demo data for the fictional brand Lumen Mobile, and the script that writes it."""

"""Collectors: platform clients and normalisation into mentions."""

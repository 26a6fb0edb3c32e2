"""Customers from the company CRM, their social identities and how authors are linked to them."""

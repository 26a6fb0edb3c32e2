"""Webhooks to the CRM: transactional outbox, Standard Webhooks signatures, retried delivery."""

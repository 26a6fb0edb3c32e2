"""Service recovery: did answering a complaint change how the customer talks about us, and who
is at risk of leaving (see `engagement.recovery.service` for the definitions)."""

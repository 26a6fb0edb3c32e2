"""Jobs and their registration (APScheduler in-process; Celery in distributed mode later)."""

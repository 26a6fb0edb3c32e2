"""HTTP API, web views and authentication (outer ring: never imports torch)."""

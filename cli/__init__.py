"""The `socialcrm` command line (outer ring, like api/ and scheduler/)."""

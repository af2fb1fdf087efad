"""The offline feature store: point-in-time training sets (entities and feature views)."""

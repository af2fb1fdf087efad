"""Files out of the engine: exports and training sets."""

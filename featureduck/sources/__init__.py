"""Getting source data to the engine: file sources staged where they cannot be read in place."""

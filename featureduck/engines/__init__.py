"""One adapter per engine behind one interface (EngineAdapter)."""

"""dbt's data tests: declared in YAML or as singular SQL, compiled and counted in the engine."""

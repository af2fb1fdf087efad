"""Running selected models in DAG order, and what a run leaves behind."""

"""The dependency DAG and node selection; networkx stays inside this package."""

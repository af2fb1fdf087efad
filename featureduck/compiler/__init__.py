"""sqlglot: parse in the project dialect, resolve names, inline ephemerals, transpile."""

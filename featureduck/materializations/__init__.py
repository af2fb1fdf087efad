"""How each kind of model is built: one strategy class per materialization."""

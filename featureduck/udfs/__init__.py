"""Python UDFs: `functions/*.py` with `@featureduck.udf`, registered on engines that run Python."""

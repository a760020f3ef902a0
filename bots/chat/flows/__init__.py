"""One module per area of the command contract; each exposes short async handlers `(Turn) -> list[Reply]`."""

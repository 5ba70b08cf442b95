"""Pure functions over polars frames: nothing here reads a model or draws anything."""

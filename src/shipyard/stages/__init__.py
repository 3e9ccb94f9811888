"""The pipeline's stages, each a plain function that returns a `StageResult`."""

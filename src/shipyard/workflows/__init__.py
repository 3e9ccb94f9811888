"""The generated GitHub workflows: pinned actions, the generator, and the drift check."""

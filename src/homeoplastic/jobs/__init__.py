"""Bundle jobs: one process runs a step for several sweep points (workflow layer: above the
models, the analysis and the figures)."""

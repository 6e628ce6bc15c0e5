"""Report artefacts: figures (``dirs.report.figures``) built from the pipeline's outputs."""

"""Evaluation: the artifact runner (`runner`), grading (`grading`) and the dev evaluation service (`service`)."""

"""Evaluation commands (newsflow eval ner|events)."""

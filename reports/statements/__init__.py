"""Statements and letters: the documents, the nightly statement cycle, batch printing and email."""

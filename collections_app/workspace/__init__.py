"""The account workspace (one page per account) and its activity timeline; the scheduling view."""

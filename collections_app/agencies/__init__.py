"""Collection agencies: candidates, placement, recall, agency payments and their files."""

"""Returned mail and address correction; billing inquiries and their response due dates."""

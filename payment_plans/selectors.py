"""Reads of payment plans (filled in by its builder)."""


def timeline_events(account) -> list:
    return []

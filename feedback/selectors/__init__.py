"""Reads of the feedback domain, one module per sub-domain, always scoped to an
organization and carrying the select_related / prefetch_related their callers need."""

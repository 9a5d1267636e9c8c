"""Shared code of the products API: the Lambda layer's own package."""

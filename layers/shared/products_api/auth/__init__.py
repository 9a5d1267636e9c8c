"""Authentication: bearer credentials (stored as hashes), their scopes, and the warm-container cache."""

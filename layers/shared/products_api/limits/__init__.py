"""Usage and rate limits per credential (the usage-plan capability): its store, rules and HTTP answers will live here.

Empty until that capability is built; nothing imports it yet."""

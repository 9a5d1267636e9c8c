"""What every capability shares: per-function settings, the DynamoDB client and attribute-value helpers, and exact
JSON reading and writing."""

"""Development side of the products API: the credential CLI, the local runner and DynamoDB Local."""

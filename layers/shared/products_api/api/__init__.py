"""The HTTP edge shared by the API functions: reading requests, building responses, the error catalogue, and the
glue every HTTP handler uses (exception handlers, the request log line and metrics)."""

"""Product images: upload authorisation (presigned POST) and ingest of uploaded files will live here.

Empty until that capability is built; nothing imports it yet."""

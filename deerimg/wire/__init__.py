"""The wire: the only importer of httpx; payloads, one attempt, the retry loop, the endpoints."""

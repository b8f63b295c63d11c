"""The run: tasks scheduled on the pool, each one sent and saved; it emits events, never prints."""

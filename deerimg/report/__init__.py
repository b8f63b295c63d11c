"""The report: the only writer to the terminal, from events and data handed to it."""

"""Jobs: pure planning of a run (prompts, request bodies, target paths); nothing is sent here."""

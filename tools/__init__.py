"""Developer tools kept out of the installed deerimg package."""

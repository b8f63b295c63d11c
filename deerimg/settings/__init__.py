"""Settings: flag > environment > config > default; warnings returned as data, never printed."""

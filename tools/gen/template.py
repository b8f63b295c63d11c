"""What every generated file shares: the do-not-edit HEADER line."""

HEADER = "Generated from the Typer app by `python -m deerimg._gen`; do not edit."

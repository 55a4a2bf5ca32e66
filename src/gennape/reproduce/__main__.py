"""``python -m gennape.reproduce [OPTIONS]``: the same as ``gennape reproduce [OPTIONS]``."""

import typer

from ..cli import reproduce

app = typer.Typer(add_completion=False)
app.command()(reproduce)
app(prog_name="python -m gennape.reproduce")

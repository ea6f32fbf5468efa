"""`hyosan view`: open a run's browser replay, building it first if the folder has none (commands register on
the app defined in hyosan.cli)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from hyosan.cli import app, console, err_console
from hyosan.errors import UserInputError

if TYPE_CHECKING:
    from http.server import ThreadingHTTPServer

__all__ = ["REPLAY_NAME", "ensure_replay", "serve_folder", "view"]

REPLAY_NAME = "replay.html"


@app.command()
def view(
    run_dir: Annotated[Path, typer.Argument(help="Results folder of a run (written by `hyosan run`).")],
    serve: Annotated[
        bool, typer.Option("--serve", help="Serve the folder over HTTP on 127.0.0.1 instead of opening the file.")
    ] = False,
    port: Annotated[int, typer.Option(help="Port for --serve (0 picks a free one).")] = 8000,
    open_browser: Annotated[
        bool, typer.Option("--open/--no-open", help="Open the default web browser (--no-open only prints where).")
    ] = True,
    rebuild: Annotated[bool, typer.Option("--rebuild", help="Write replay.html again even if it exists.")] = False,
) -> None:
    """Open the browser replay of a run: the floors, everyone on them, their stories."""
    import webbrowser

    page = ensure_replay(run_dir, rebuild=rebuild)
    if not serve:
        uri = page.resolve().as_uri()
        if open_browser:
            webbrowser.open(uri)
            console.print(f"opened [bold]{escape(str(page))}[/] in the web browser")
        else:
            console.print(uri, highlight=False, soft_wrap=True)
        return
    server = serve_folder(page.parent, port)
    url = f"http://127.0.0.1:{server.server_address[1]}/{page.name}"
    console.print(f"serving [bold]{escape(str(page.parent))}[/] at {url}  (Ctrl-C stops)", soft_wrap=True)
    if open_browser:
        webbrowser.open(url)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        err_console.print("stopped")
    finally:
        server.server_close()


def ensure_replay(run_dir: Path, rebuild: bool = False) -> Path:
    """`run_dir/replay.html`, written from the results folder first if it is missing (or `rebuild`)."""
    if not run_dir.is_dir():
        raise UserInputError("no such results folder", run_dir)
    page = run_dir / REPLAY_NAME
    if page.is_file() and not rebuild:
        return page
    from hyosan.results import load_results
    from hyosan.viz.replay import write_replay

    results = load_results(run_dir)  # UserInputError if this is not a results folder
    with console.status("writing the replay…"):
        try:
            write_replay(results, page)
        except PermissionError:
            raise UserInputError(f"cannot write {REPLAY_NAME} here (permission denied)", run_dir) from None
    return page


def serve_folder(folder: Path, port: int) -> ThreadingHTTPServer:
    """An HTTP server for `folder` on 127.0.0.1 only (never on other interfaces), not yet serving."""
    import functools
    from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

    class QuietHandler(SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

    handler = functools.partial(QuietHandler, directory=str(folder))
    try:
        return ThreadingHTTPServer(("127.0.0.1", port), handler)
    except OSError as exc:
        raise UserInputError(f"--port {port}: cannot listen on 127.0.0.1:{port} ({exc.strerror})") from None

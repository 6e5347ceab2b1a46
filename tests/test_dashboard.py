"""The dashboard: behaviour with Textual's Pilot, pictures, and a real terminal."""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Callable
from typing import Any

import pytest
from rich.console import Console
from rich.text import Text
from textual.pilot import Pilot
from textual.widgets import DataTable, Input, Label
from textual.widgets.data_table import CellDoesNotExist

import tmuxagent
from tests.conftest import CLI, prog
from tmuxagent.dashboard import DashboardApp, refresh
from tmuxagent.dashboard.refresh import Refresher
from tmuxagent.dashboard.screens import AskScreen, ConfirmScreen, FocusScreen, LogScreen
from tmuxagent.dashboard.widgets import Preview

#: Slower than the real dashboard's ticks: Pilot waits for the app to be idle
#: after each key press, and an app that ticks constantly never quite is.
TICK = 0.2


async def until(pilot: Pilot[Any], check: Callable[[], object], timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {check}")
        await pilot.pause(0.05)


def preview_text(app: DashboardApp, name: str) -> str:
    preview = next(p for p in app.query(Preview) if p.session_name == name)
    return preview.content.text()


def table_status(app: DashboardApp, name: str) -> str:
    return table_cell(app, name, "status")


def table_cell(app: DashboardApp, name: str, column: str) -> str:
    try:
        cell = app.query_one("#sessions", DataTable).get_cell(name, column)
    except CellDoesNotExist:  # not in the list yet
        return ""
    return str(cell.plain if hasattr(cell, "plain") else cell)


async def test_sessions_come_and_go(ta: tmuxagent.Server) -> None:
    ta.start("alpha", ["sh", "-c", "printf '\\033[31mhello\\033[0m alpha\\n'; sleep 300"])
    app = DashboardApp(ta, interval=TICK)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: "alpha" in app.sessions)
        await until(pilot, lambda: "hello alpha" in preview_text(app, "alpha"))
        assert table_status(app, "alpha") == "running"
        ta.start("beta", prog("exit_with.py", "3"))
        await until(pilot, lambda: "beta" in app.sessions and not app.sessions["beta"].alive)
        await until(pilot, lambda: table_status(app, "beta") != "running")
        assert table_status(app, "beta") == "exited 3"
        ta.session("alpha").kill()
        await until(pilot, lambda: "alpha" not in app.sessions)
        # Widgets leave the screen after the refresh that removed them: a
        # refresh rebuilds the previews, and the old ones go on the next tick.
        await until(pilot, lambda: [p.session_name for p in app.query(Preview)] == ["beta"])


async def test_markup_in_names_is_text(ta: tmuxagent.Server) -> None:
    ta.start("[b]x[/b]", ["sh", "-c", "echo '[red]not markup[/red]'; sleep 300"])
    app = DashboardApp(ta, interval=TICK)
    async with app.run_test(size=(100, 30)) as pilot:
        await until(pilot, lambda: "[b]x[/b]" in app.sessions)
        await until(pilot, lambda: "[red]" in preview_text(app, "[b]x[/b]"))
        table = app.query_one("#sessions", DataTable)
        assert table.get_cell("[b]x[/b]", "name").plain == "[b]x[/b]"
        assert "[red]not markup[/red]" in table.get_cell("[b]x[/b]", "command").plain
        # Every screen that shows the name: full size, both dialogs, the log.
        app.select("[b]x[/b]")
        await pilot.press("enter")
        assert isinstance(app.screen, FocusScreen)
        await until(pilot, lambda: app.screen.view.content.rows)
        assert "[b]x[/b]" in str(app.screen.title_label.render())
        for key, screen in (("i", AskScreen), ("k", AskScreen), ("x", ConfirmScreen)):
            await pilot.press(key)
            assert isinstance(app.screen, screen)
            assert any("[b]x[/b]" in str(label.render()) for label in app.screen.query(Label))
            await pilot.press("escape")
            assert isinstance(app.screen, FocusScreen)
        await pilot.press("l")
        await until(pilot, lambda: isinstance(app.screen, LogScreen))
        assert any("[b]x[/b]" in str(label.render()) for label in app.screen.query(Label))


async def test_filter_and_sort(ta: tmuxagent.Server) -> None:
    for name in ("web", "db", "worker"):
        ta.start(name, ["sleep", "300"])
    app = DashboardApp(ta, interval=TICK)
    async with app.run_test(size=(100, 30)) as pilot:
        await until(pilot, lambda: len(app.sessions) == 3)
        await until(pilot, lambda: len(app.query(Preview)) == 3)
        assert app._order == ["db", "web", "worker"]
        await pilot.press("s")
        assert app._order == ["worker", "web", "db"]
        await pilot.press("slash", "w", "o")
        assert app._order == ["worker"]
        assert [p.session_name for p in app.query(Preview)] == ["worker"]
        await pilot.press("escape")
        assert app._order == ["worker", "web", "db"]


async def test_sessions_asking_stand_out_and_come_first(ta: tmuxagent.Server) -> None:
    ask = [sys.executable, "-c", 'input("Early? [y/N] ")']
    ta.start("c-early", ask)  # asking before the dashboard starts: no note for it
    for name in ("a-quiet", "b-ask"):
        ta.start(name, ["python3", "-q"])
    app = DashboardApp(ta, interval=TICK, bell=True)
    rang: list[int] = []
    app.bell = lambda: rang.append(1)  # type: ignore[method-assign]

    def notes(name: str) -> list[str]:
        return [str(n.message) for n in app._notifications if str(n.message).startswith(name)]

    async with app.run_test(size=(100, 30)) as pilot:
        await until(pilot, lambda: table_cell(app, "b-ask", "state") == "ready"
                    and table_cell(app, "c-early", "state") == "asking")  # fmt: skip
        # Markup in a question is text; a second question is a second note.
        two = 'input("Really [/] deploy? [y/N] ") and 0 or input("Sure? [y/N] ")'
        ta.session("b-ask").send(two, enter=True)
        await until(pilot, lambda: table_cell(app, "b-ask", "state") == "asking")
        cell = app.query_one("#sessions", DataTable).get_cell("b-ask", "state")
        assert "reverse" in str(cell.style) and rang  # it stands out, and the bell rang
        await until(pilot, lambda: notes("b-ask"))
        assert "b-ask is asking: Really [/] deploy?" in notes("b-ask")[0]
        # A toast reads its text as markup unless told not to ('[/]' crashed it).
        assert not any(n.markup for n in app._notifications)
        ta.session("b-ask").send("n", enter=True)
        await until(pilot, lambda: len(notes("b-ask")) == 2)
        assert "Sure?" in notes("b-ask")[1]
        ta.start("d-late", [sys.executable, "-c", 'input("Late? [y/N] ")'])  # asks at once
        await until(pilot, lambda: notes("d-late"))
        assert not notes("c-early") and table_cell(app, "a-quiet", "state") == "ready"
        assert app._order == ["a-quiet", "b-ask", "c-early", "d-late"]
        await pilot.press("s", "s")  # by name, backwards, then asking first
        assert app.order == "asking first"
        assert app._order == ["b-ask", "c-early", "d-late", "a-quiet"]


async def test_focus_send_keys_and_kill(ta: tmuxagent.Server) -> None:
    shell = ta.start("shell")
    ta.start("other", ["sleep", "300"])
    app = DashboardApp(ta, interval=TICK)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: len(app.sessions) == 2)
        app.select("shell")
        await pilot.press("enter")
        assert isinstance(app.screen, FocusScreen)
        await until(pilot, lambda: app.screen.view.content.rows)
        # Send a line.
        await pilot.press("i")
        app.screen.query_one(Input).value = "echo from-the-dash"
        await pilot.press("enter")
        await asyncio.to_thread(shell.wait_text, "^from-the-dash$", timeout=10)
        await until(
            pilot,
            lambda: "from-the-dash" in app.screen.view.content.text().split("\n"),
        )  # fmt: skip
        # Keys.
        await pilot.press("k")
        app.screen.query_one(Input).value = "Nope"
        await pilot.press("enter")  # a bad key name is reported, not typed
        await pilot.pause(0.3)
        # Kill, with confirmation: 'n' keeps it, 'y' kills it.
        await pilot.press("x")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")
        assert isinstance(app.screen, FocusScreen)
        await pilot.press("x", "y")
        await until(pilot, lambda: "shell" not in app.sessions)
        assert not isinstance(app.screen, FocusScreen)
        assert [s.name for s in ta.sessions()] == ["other"]


async def test_log_and_attach_command(ta: tmuxagent.Server) -> None:
    ta.start("talker", ["sh", "-c", "seq 1 100; sleep 300"])
    app = DashboardApp(ta, interval=TICK)
    async with app.run_test(size=(100, 30)) as pilot:
        await until(pilot, lambda: "talker" in app.sessions)
        await pilot.press("c")
        await pilot.press("l")
        log = app.screen.query_one("#log")
        assert "100" in log.lines  # type: ignore[attr-defined]
        await pilot.press("escape")
        assert not isinstance(app.screen, FocusScreen)
        await pilot.press("a")  # no real terminal here: it says how instead


async def test_dead_server_is_shown(ta: tmuxagent.Server) -> None:
    ta.start("lonely", ["sleep", "300"])
    app = DashboardApp(ta, interval=TICK)
    async with app.run_test(size=(100, 30)) as pilot:
        await until(pilot, lambda: "lonely" in app.sessions)
        ta.kill_all()
        await until(pilot, lambda: not app.sessions)
        status = str(app.query_one("#status").render())
        assert "not running" in status
        ta.start("again", ["sleep", "300"])
        await until(pilot, lambda: "again" in app.sessions)


def snapshot_server(ta: tmuxagent.Server) -> None:
    build = "printf 'compiling \\033[1mcore\\033[0m\\n\\033[32mok\\033[0m 42 tests\\n'"
    ta.start("build", ["sh", "-c", build + "; exec sleep 300"])
    ta.start("repl", ["sh", "-c", "printf '>>> 6 * 7\\n42\\n>>> '; exec sleep 300"])
    ta.start("server", ["sh", "-c", "printf 'listening on :8000\\nGET / 200\\n'; exec sleep 300"])


def snapshot_app(ta: tmuxagent.Server) -> DashboardApp:
    return DashboardApp(ta, interval=TICK, clock=lambda: 0.0, label="snapshot")


def loaded(app: DashboardApp, names: tuple[str, ...]) -> Callable[[Pilot[Any]], Any]:
    async def run_before(pilot: Pilot[Any]) -> None:
        await until(pilot, lambda: all(preview_text(app, n) for n in names)
                    if len(app.query(Preview)) == len(names) else False)  # fmt: skip
        # Each is a shell running a command (sleep): working, for as long as it runs.
        await until(pilot, lambda: all(table_cell(app, n, "state") == "working" for n in names))
        await pilot.pause(0.2)

    return run_before


def test_snapshot_main_view(ta: tmuxagent.Server, snap_compare: Any) -> None:
    snapshot_server(ta)
    app = snapshot_app(ta)
    assert snap_compare(app, terminal_size=(100, 30),
                        run_before=loaded(app, ("build", "repl", "server")))  # fmt: skip


def test_snapshot_small_terminal(ta: tmuxagent.Server, snap_compare: Any) -> None:
    snapshot_server(ta)
    app = snapshot_app(ta)
    assert snap_compare(app, terminal_size=(80, 24),
                        run_before=loaded(app, ("build", "repl", "server")))  # fmt: skip


def test_snapshot_focus_view(ta: tmuxagent.Server, snap_compare: Any) -> None:
    snapshot_server(ta)
    app = snapshot_app(ta)
    ready = loaded(app, ("build", "repl", "server"))

    async def run_before(pilot: Pilot[Any]) -> None:
        await ready(pilot)
        app.select("repl")
        await pilot.press("enter")
        await until(pilot, lambda: app.screen.view.content.rows)
        await pilot.pause(0.2)

    assert snap_compare(app, terminal_size=(100, 30), run_before=run_before)


def test_dashboard_in_a_real_terminal(ta: tmuxagent.Server, cli: CLI) -> None:
    """tmuxagent drives its own dashboard: start it in a pane, read it, press keys."""
    ta.start("target", ["sh", "-c", "echo visible-output; exec sleep 300"])
    assert cli("dashboard").returncode == 2  # no terminal here
    dash = ta.start(
        "dash", [sys.executable, "-m", "tmuxagent", "-S", str(ta.socket_path), "dashboard"],
        size="100x30",
    )  # fmt: skip
    dash.wait_text("visible-output", timeout=30)
    dash.wait_text("Quit", timeout=10)
    screen = dash.capture().text
    assert "NAME" in screen and "target" in screen and "Quit" in screen
    dash.keys("Down", "Down")  # select 'target' (below 'dash')
    dash.keys("x")
    dash.wait_text("Kill session", timeout=10)
    dash.keys("n")
    dash.keys("q")
    assert dash.wait_exit(timeout=15) == 0
    assert "target" in [s.name for s in ta.sessions()]


@pytest.mark.parametrize("naive", [False, True])
async def test_refresh_strategies_agree(ta: tmuxagent.Server, naive: bool) -> None:
    ta.start("one", ["sh", "-c", "echo first; sleep 0.3; echo second; sleep 300"])
    app = DashboardApp(ta, interval=TICK, naive=naive)
    async with app.run_test(size=(100, 30)) as pilot:
        await until(pilot, lambda: "second" in preview_text(app, "one") if app.query(Preview)
                    else False)  # fmt: skip


def one_then_two(ta: tmuxagent.Server, name: str) -> tuple[tmuxagent.Session, Refresher]:
    """A session showing ``one`` (and ``two`` once sent an Enter); a refresher."""
    session = ta.start(name, ["sh", "-c", "echo one; read x; echo two; exec sleep 300"])
    session.wait_text("^one$")
    return session, Refresher(ta)


def test_only_previews_on_screen_are_fetched(
    ta: tmuxagent.Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A screen that changed is fetched once its preview is shown, not before;
    # the full-size view is fetched whatever the previews.
    monkeypatch.setattr(refresh, "PREVIEW_EVERY", 0.0)
    session, refresher = one_then_two(ta, "off")
    assert refresher.tick(shown=frozenset()).screens == {}
    assert "one" in refresher.tick(shown=frozenset({"off"})).screens["off"]
    assert refresher.tick(shown=frozenset({"off"})).screens == {}  # unchanged
    session.send("", enter=True, wait="^two$")
    assert refresher.tick(shown=frozenset()).screens == {}
    focused = refresher.tick(("off", 1), shown=frozenset()).focused
    assert focused is not None and "two" in focused
    assert "two" in refresher.tick(shown=frozenset({"off"})).screens["off"]


def test_a_busy_screen_is_fetched_at_most_every_preview_period(
    ta: tmuxagent.Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A change is fetched at once if the last fetch was long enough ago, and
    # else once it is: never lost, and a busy session costs 5 fetches a second.
    monkeypatch.setattr(refresh, "PREVIEW_EVERY", 3600.0)
    session, refresher = one_then_two(ta, "busy")
    assert "one" in refresher.tick().screens["busy"]  # the first fetch: at once
    session.send("", enter=True, wait="^two$")
    refresher._full_at = 0.0  # a full look: the new output is known
    assert refresher.tick().screens == {}  # fetched too recently
    monkeypatch.setattr(refresh, "PREVIEW_EVERY", 0.0)
    assert "two" in refresher.tick().screens["busy"]  # kept for later, not lost


async def test_previews_out_of_view_are_fetched_when_scrolled_to(ta: tmuxagent.Server) -> None:
    # Ten sessions, two previews a row, room for about a row and a half: a
    # preview out of view is not fetched again; scrolled to, it is.
    names = [f"s{i}" for i in range(10)]
    for name in names:
        ta.start(name, ["sh", "-c", f"echo first-{name}; read x; echo second-{name}; sleep 300"])
    app = DashboardApp(ta, interval=TICK)
    async with app.run_test(size=(100, 30)) as pilot:
        await until(pilot, lambda: len(app.query(Preview)) == 10 and app.shown_previews)
        assert app.shown_previews == {"s0", "s1", "s2", "s3"}
        await until(pilot, lambda: "first-s9" in preview_text(app, "s9"))  # the first tick: all
        for name in ("s0", "s9"):
            ta.session(name).send("", enter=True, wait=f"^second-{name}$")
        await until(pilot, lambda: "second-s0" in preview_text(app, "s0"))
        await pilot.pause(5 * TICK)
        assert "second-s9" not in preview_text(app, "s9")  # out of view: not fetched
        app.grid_scroll.scroll_end(animate=False)
        await until(pilot, lambda: "second-s9" in preview_text(app, "s9"))
        assert "s9" in (app.shown_previews or ()) and "s0" not in (app.shown_previews or ())


def test_colours_set_on_one_row_hold_on_the_next(ta: tmuxagent.Server) -> None:
    # tmux sets a colour once for rows that keep it; a row is parsed on its own.
    script = "printf '\\033[31mone\\ntwo\\n\\033[0mthree\\n'; sleep 300"
    session = ta.start("red", ["sh", "-c", script])
    session.wait_text("^three$")
    rows = refresh.carry_colours(ta.screens(["red"], ansi=True)["red"].text.split("\n"))
    styles = [Text.from_ansi(row).get_style_at_offset(Console(), 0) for row in rows[:3]]
    assert [style.color.number if style.color else None for style in styles] == [1, 1, None]
    assert refresh.carry_colours(["a", "\x1b[1mb", "c", "\x1b[0;32md", "e", "\x1b[mf", "g"]) == [
        "a", "\x1b[1mb", "\x1b[1mc", "\x1b[1m\x1b[0;32md", "\x1b[0;32me",
        "\x1b[0;32m\x1b[mf", "g",
    ]  # fmt: skip

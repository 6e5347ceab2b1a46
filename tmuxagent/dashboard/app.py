"""The dashboard: every agent session at a glance, live, and a way to step in.

Layout: the session list (name, status, command, size, age) above a grid of
live previews; Enter shows one session full-size with its scrollback. A worker
thread asks tmux what changed (see ``refresh.py``) and hands the result to
the UI in one piece; previews are Line API widgets that re-render only when
their screen changed. Only the public ``tmuxagent`` API is used.
"""

from __future__ import annotations

import shlex
import signal
import subprocess
import time
from collections.abc import Callable

from rich.style import Style
from rich.text import Text
from textual import on, work
from textual.app import App, ComposeResult, SuspendNotSupported
from textual.binding import Binding
from textual.containers import Grid, Vertical, VerticalScroll
from textual.geometry import Size
from textual.screen import ModalScreen, Screen
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.widget import Widget
from textual.widgets import DataTable, Footer, Header, Input, Label, Log, Static
from textual.worker import get_current_worker

from tmuxagent import Server, SessionInfo, TmuxAgentError

from .refresh import Refresher, Snapshot

#: Columns of the session list.
COLUMNS = ("name", "status", "command", "size", "age")
PREVIEW_WIDTH = 48  # a preview column is at least this wide


def describe(info: SessionInfo, now: float) -> str:
    """running / idle 12s / exited 3 / killed (SIGKILL)."""
    if not info.alive:
        if info.signal:
            try:
                return f"killed ({signal.Signals(info.signal).name})"
            except ValueError:
                return f"killed ({info.signal})"
        return f"exited {info.exit_status}"
    idle = now - info.last_output
    return f"idle {format_age(idle)}" if idle >= 5 else "running"


def format_age(seconds: float) -> str:
    seconds = max(0, int(seconds))
    if seconds < 120:
        return f"{seconds}s"
    if seconds < 7200:
        return f"{seconds // 60}m"
    if seconds < 172800:
        return f"{seconds // 3600}h"
    return f"{seconds // 86400}d"


class TextLines:
    """Rich Text lines shown through the Line API, turned into Strips lazily.

    Only the rows on screen are ever rendered, once per content change.
    """

    def __init__(self) -> None:
        self.lines: list[Text] = []
        self._strips: dict[int, Strip] = {}

    def set(self, lines: list[Text]) -> None:
        while lines and not lines[-1].plain.strip():
            lines = lines[:-1]
        self.lines = lines
        self._strips = {}

    def strip(self, index: int, widget: Widget) -> Strip | None:
        if not 0 <= index < len(self.lines):
            return None
        strip = self._strips.get(index)
        if strip is None:
            strip = self._strips[index] = Strip(list(self.lines[index].render(widget.app.console)))
        return strip


class Preview(Widget):
    """A session's screen, cropped to the widget: the last rows, as in tmux."""

    DEFAULT_CSS = """
    Preview { height: 100%; border: round $panel-lighten-2; padding: 0 1; }
    Preview.-selected { border: round $accent; }
    Preview.-dead { border: round $error; }
    """

    def __init__(self, name: str) -> None:
        super().__init__(classes="preview")
        self.session_name = name
        self.content = TextLines()
        self._base: Style | None = None
        self._titles = ("", "")

    def show(self, lines: list[Text]) -> None:
        self.content.set(lines)
        self.refresh()

    def set_info(self, info: SessionInfo, status: str, selected: bool) -> None:
        # Each of these refreshes the widget when set: only set what changed.
        if self._titles != (info.name, status):
            self._titles = (info.name, status)
            self.border_title = Text(info.name)  # Text: a name is not markup
            self.border_subtitle = Text(status)
        if self.has_class("-dead") == info.alive:
            self.set_class(not info.alive, "-dead")
        if self.has_class("-selected") != selected:
            self.set_class(selected, "-selected")

    def render_line(self, y: int) -> Strip:
        if self._base is None:
            self._base = self.rich_style  # costly to compute, and it does not change
        width = self.size.width
        start = max(0, len(self.content.lines) - self.size.height)
        strip = self.content.strip(start + y, self)
        if strip is None:
            return Strip.blank(width, self._base)
        return strip.crop_extend(0, width, self._base).apply_style(self._base)

    def on_click(self) -> None:
        app = self.app
        if isinstance(app, DashboardApp):
            app.select(self.session_name)


class ScreenView(ScrollView):
    """One session full-size, with its scrollback; follows the bottom."""

    def __init__(self) -> None:
        super().__init__(id="screen-view")
        self.content = TextLines()

    def show(self, lines: list[Text]) -> None:
        at_bottom = self.scroll_y >= self.max_scroll_y - 1
        self.content.set(lines)
        width = max((line.cell_len for line in self.content.lines), default=0)
        self.virtual_size = Size(width, len(self.content.lines))
        if at_bottom:
            self.scroll_end(animate=False)
        self.refresh()

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        width = self.size.width
        base = self.rich_style
        strip = self.content.strip(scroll_y + y, self)
        if strip is None:
            return Strip.blank(width, base)
        return strip.crop_extend(scroll_x, scroll_x + width, base).apply_style(base)


class FocusScreen(Screen[None]):
    """A session full-size. Escape goes back."""

    BINDINGS = [Binding("escape", "app.pop_screen", "Back")]

    def __init__(self, name: str) -> None:
        super().__init__()
        self.session_name = name
        self.title_label = Label(f" {name}", id="focus-title")
        self.view = ScreenView()
        self._title = ""
        self._pending: list[Text] | None = None

    def compose(self) -> ComposeResult:
        yield Header(show_clock=False)
        yield self.title_label
        yield self.view
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = self.session_name
        if self._pending is not None:
            self.view.show(self._pending)
            self._pending = None

    def update(self, lines: list[Text] | None, status: str) -> None:
        """Show a tick's findings; the first may land before the screen is mounted."""
        title = f" {self.session_name}: {status}"
        if title != self._title:
            self._title = title
            self.title_label.update(title)
        if lines is None:
            return
        if self.view.is_mounted:
            self.view.show(lines)
        else:
            self._pending = lines


class AskScreen(ModalScreen[str | None]):
    """A one-line question; Enter answers, Escape cancels."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, prompt: str, placeholder: str = "") -> None:
        super().__init__()
        self.prompt = prompt
        self.placeholder = placeholder

    def compose(self) -> ComposeResult:
        with Vertical(id="ask"):
            yield Label(self.prompt)
            yield Input(placeholder=self.placeholder, id="ask-input")

    @on(Input.Submitted)
    def submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value)

    def action_cancel(self) -> None:
        self.dismiss(None)


class ConfirmScreen(ModalScreen[bool]):
    BINDINGS = [
        Binding("y", "answer(True)", "Yes"),
        Binding("n,escape", "answer(False)", "No"),
    ]

    def __init__(self, question: str) -> None:
        super().__init__()
        self.question = question

    def compose(self) -> ComposeResult:
        with Vertical(id="ask"):
            yield Label(self.question)
            yield Label("[b]y[/b] yes   [b]n[/b] no")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)


class LogScreen(Screen[None]):
    """Everything the session wrote, as text (what 'tmuxagent read' returns)."""

    BINDINGS = [Binding("escape", "app.pop_screen", "Back")]

    def __init__(self, name: str, text: str, path: str) -> None:
        super().__init__()
        self.session_name = name
        self.text = text
        self.path = path

    def compose(self) -> ComposeResult:
        yield Header(show_clock=False)
        yield Label(f" log of {self.session_name}: {self.path}")
        yield Log(id="log", highlight=False)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(Log).write(self.text)


class DashboardApp(App[None]):
    """Watch and take over the sessions on one tmuxagent server."""

    TITLE = "tmuxagent"
    CSS = """
    #sessions { height: 35%; min-height: 5; border: round $panel-lighten-2; }
    #sessions:focus-within { border: round $accent; }
    #filter { display: none; height: 3; }
    #filter.-shown { display: block; }
    #grid-scroll { height: 1fr; }
    #grid { grid-size: 2; grid-gutter: 0 1; grid-rows: 12; height: auto; }
    #status { height: 1; color: $text-muted; padding: 0 1; }
    #ask { width: 70%; height: auto; border: round $accent; background: $surface;
           padding: 1 2; }
    AskScreen, ConfirmScreen { align: center middle; }
    #focus-title { height: 1; background: $boost; width: 100%; }
    #screen-view { height: 1fr; }
    """
    BINDINGS = [
        Binding("q", "quit", "Quit"),
        Binding("enter", "focus_session", "Full size", show=True),
        Binding("i", "send_line", "Send line"),
        Binding("k", "send_keys", "Keys"),
        Binding("a", "attach", "Attach"),
        Binding("x", "kill", "Kill"),
        Binding("c", "attach_command", "Attach cmd"),
        Binding("l", "show_log", "Log"),
        Binding("slash", "filter", "Filter"),
        Binding("s", "sort", "Sort"),
    ]

    def __init__(
        self,
        server: Server,
        *,
        interval: float = 0.1,
        naive: bool = False,
        clock: Callable[[], float] = time.time,
        label: str | None = None,
    ) -> None:
        super().__init__()
        self.server = server
        self.interval = interval
        self.clock = clock
        self.refresher = Refresher(server, naive=naive)
        self.sub_title = label if label is not None else str(server.socket_path)
        self.sessions: dict[str, SessionInfo] = {}
        self.selected: str | None = None
        self.filter_text = ""
        self.descending = False
        self.ticks = 0
        self._lines: dict[str, list[Text]] = {}
        self._previews: dict[str, Preview] = {}
        self._order: list[str] = []
        self._status_text = ""
        # The main view's widgets, kept: other screens may be on top when a tick lands.
        self.filter_box = Input(
            placeholder="filter by name (Enter: keep, Escape: clear)", id="filter"
        )
        self.table: DataTable[Text] = DataTable(
            id="sessions", cursor_type="row", zebra_stripes=True
        )
        self.status = Static("", id="status")
        self.grid = Grid(id="grid")

    # -- layout ----------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Header(show_clock=False)
        yield self.filter_box
        yield self.table
        yield self.status
        with VerticalScroll(id="grid-scroll"):
            yield self.grid
        yield Footer()

    def on_mount(self) -> None:
        table = self.table
        for column in COLUMNS:
            table.add_column(column.upper(), key=column)
        table.focus()
        self._layout_grid()
        self._refresh_loop()

    def on_resize(self) -> None:
        self._layout_grid()

    def _layout_grid(self) -> None:
        self.grid.styles.grid_size_columns = max(1, self.size.width // PREVIEW_WIDTH)

    # -- refreshing --------------------------------------------------------------------

    @work(thread=True, exclusive=True, group="refresh")
    def _refresh_loop(self) -> None:
        """Ask tmux, hand the answer to the UI, wait; ticks never overlap."""
        worker = get_current_worker()
        while not worker.is_cancelled:
            started = time.monotonic()
            focused = self.screen.session_name if isinstance(self.screen, FocusScreen) else None
            snapshot = self.refresher.tick(focused)
            if worker.is_cancelled or not self.is_running:
                return
            try:
                self.call_from_thread(self.apply, snapshot)
            except RuntimeError:  # the app is shutting down
                return
            time.sleep(max(0.0, self.interval - (time.monotonic() - started)))

    def apply(self, snapshot: Snapshot) -> None:
        """Show one tick's findings (runs on the UI thread)."""
        if not self.table.is_attached:  # a last tick after the app closed
            return
        self.ticks += 1
        # Whole seconds: every age and idle time changes in the same tick, so
        # the session list repaints once a second, not on every tick.
        now = float(int(self.clock()))
        if snapshot.error and not snapshot.sessions:
            self._set_status(f"no sessions: {snapshot.error}")
        else:
            count = len(snapshot.sessions)
            shown = len(self._visible(snapshot.sessions))
            self._set_status(f"{count} session{'s' if count != 1 else ''}"
                             + (f", {shown} shown (filter: {self.filter_text})"
                                if self.filter_text else ""))  # fmt: skip
        self.sessions = {info.name: info for info in snapshot.sessions}
        for name, lines in snapshot.screens.items():
            self._lines[name] = lines
            preview = self._previews.get(name)
            if preview is not None:
                preview.show(lines)
        for name in set(self._lines) - set(self.sessions):
            del self._lines[name]
        self._update_table(now)
        self._update_grid(now)
        if isinstance(self.screen, FocusScreen):
            info = self.sessions.get(self.screen.session_name)
            text = describe(info, now) if info else "gone (the session no longer exists)"
            self.screen.update(snapshot.focused, text)

    def _set_status(self, text: str) -> None:
        if text != self._status_text:  # an update re-lays out the screen
            self._status_text = text
            self.status.update(text)

    def _visible(self, infos: list[SessionInfo]) -> list[SessionInfo]:
        needle = self.filter_text.lower()
        chosen = [i for i in infos if needle in i.name.lower()]
        return sorted(chosen, key=lambda i: i.name.lower(), reverse=self.descending)

    def _update_table(self, now: float) -> None:
        table = self.table
        visible = self._visible(list(self.sessions.values()))
        order = [i.name for i in visible]
        cursor_name = self.selected
        if order != self._order:
            table.clear()
            for info in visible:
                table.add_row(*self._cells(info, now), key=info.name)
            self._order = order
        else:
            for info in visible:
                for column, value in zip(COLUMNS, self._cells(info, now), strict=True):
                    if table.get_cell(info.name, column) != value:
                        table.update_cell(info.name, column, value)
        if cursor_name in order:
            row = order.index(cursor_name)
            if table.cursor_row != row:
                table.move_cursor(row=row)
        elif order:
            self.selected = order[min(table.cursor_row, len(order) - 1)]
        else:
            self.selected = None

    def _cells(self, info: SessionInfo, now: float) -> tuple[Text, ...]:
        """The row of a session: Text, so that names and commands are not markup."""
        command = info.command if len(info.command) <= 40 else info.command[:39] + "…"
        return (
            Text(info.name),
            Text(describe(info, now)),
            Text(command),
            Text(f"{info.cols}x{info.rows}"),
            Text(format_age(now - info.created)),
        )

    def _update_grid(self, now: float) -> None:
        grid = self.grid
        wanted = self._order
        if list(self._previews) != wanted:
            for preview in self._previews.values():
                preview.remove()
            self._previews = {name: Preview(name) for name in wanted}
            grid.mount_all(self._previews.values())
            for name, preview in self._previews.items():
                preview.show(self._lines.get(name, []))
        for name, preview in self._previews.items():
            info = self.sessions[name]
            preview.set_info(info, describe(info, now), name == self.selected)

    @on(DataTable.RowHighlighted, "#sessions")
    def _row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        # Highlights are delivered later than they happen: one from before the
        # list was rebuilt must not move the selection back (and so on).
        if event.cursor_row != self.table.cursor_row or event.row_key.value is None:
            return
        if event.row_key.value != self.selected:
            self.selected = event.row_key.value
            self._mark_selected()

    @on(DataTable.RowSelected, "#sessions")
    def _row_selected(self, event: DataTable.RowSelected) -> None:
        if event.row_key.value is not None:
            self.select(event.row_key.value)
            self.action_focus_session()

    def select(self, name: str) -> None:
        """Make ``name`` the selected session (in the list and the grid)."""
        self.selected = name
        self._mark_selected()
        if name in self._order:
            row = self._order.index(name)
            if self.table.cursor_row != row:
                self.table.move_cursor(row=row)

    def _mark_selected(self) -> None:
        for name, preview in self._previews.items():
            if preview.has_class("-selected") != (name == self.selected):
                preview.set_class(name == self.selected, "-selected")

    # -- actions -------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """In the full-size view, list actions (filter, sort, focus) do not apply."""
        in_focus = isinstance(self.screen, FocusScreen)
        return not (in_focus and action in ("focus_session", "filter", "sort"))

    def _target(self) -> str | None:
        if isinstance(self.screen, FocusScreen):
            return self.screen.session_name
        if self.selected is None:
            self.notify("no session selected", severity="warning")
        return self.selected

    def action_focus_session(self) -> None:
        if isinstance(self.screen, FocusScreen) or self.selected is None:
            return
        self.refresher.forget_focus()
        self.push_screen(FocusScreen(self.selected))

    def action_filter(self) -> None:
        box = self.filter_box
        box.add_class("-shown")
        box.focus()

    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.filter_text = event.value
        self._update_table(self.clock())
        self._update_grid(self.clock())

    @on(Input.Submitted, "#filter")
    def _filter_done(self) -> None:
        self.table.focus()

    def on_key(self, event: object) -> None:
        key = getattr(event, "key", "")
        box = self.filter_box
        if key == "escape" and box.has_focus:
            box.value = ""
            box.remove_class("-shown")
            self.table.focus()

    def action_sort(self) -> None:
        self.descending = not self.descending
        self._update_table(self.clock())
        self._update_grid(self.clock())

    def action_send_line(self) -> None:
        name = self._target()
        if name is None:
            return

        def send(text: str | None) -> None:
            if text is not None:
                self._act(name, lambda s: s.send(text, enter=True), "sent")

        self.push_screen(AskScreen(f"Type into {name} (Enter sends it, with Enter)"), send)

    def action_send_keys(self) -> None:
        name = self._target()
        if name is None:
            return

        def press(keys: str | None) -> None:
            if keys:
                self._act(name, lambda s: s.keys(*keys.split()), "pressed")

        self.push_screen(
            AskScreen(f"Keys for {name}", "C-c   or   Up Enter   or   Escape :q Enter"), press
        )

    def action_kill(self) -> None:
        name = self._target()
        if name is None:
            return

        def kill(yes: bool | None) -> None:
            if yes:
                if isinstance(self.screen, FocusScreen):
                    self.pop_screen()
                self._act(name, lambda s: s.kill(), "killed")

        self.push_screen(ConfirmScreen(f"Kill session {name!r} and its program?"), kill)

    def action_attach_command(self) -> None:
        name = self._target()
        if name is None:
            return
        try:
            command = shlex.join(self.server.session(name).attach_command())
        except TmuxAgentError as exc:
            self.notify(str(exc), severity="error")
            return
        self.copy_to_clipboard(command)
        self.notify(command, title="attach command (copied)", timeout=10)

    def action_attach(self) -> None:
        name = self._target()
        if name is None:
            return
        try:
            command = self.server.session(name).attach_command()
        except TmuxAgentError as exc:
            self.notify(str(exc), severity="error")
            return
        try:
            with self.suspend():
                subprocess.run(command, check=False)  # back here on detach
        except SuspendNotSupported:
            self.notify(f"cannot attach from here; run: {shlex.join(command)}", severity="warning")

    def action_show_log(self) -> None:
        name = self._target()
        if name is None:
            return
        try:
            session = self.server.session(name)
            text = session.transcript()
            path = str(session.log_path)
        except TmuxAgentError as exc:
            self.notify(str(exc), severity="error")
            return
        self.push_screen(LogScreen(name, text, path))

    @work(thread=True, group="actions")
    def _act(self, name: str, action: Callable[..., object], done: str) -> None:
        try:
            action(self.server.session(name))
        except TmuxAgentError as exc:
            self.call_from_thread(self.notify, str(exc), severity="error")
        else:
            self.call_from_thread(self.notify, f"{done}: {name}", timeout=2)


def run(server: Server, *, interval: float = 0.1, naive: bool = False) -> None:
    DashboardApp(server, interval=interval, naive=naive).run()

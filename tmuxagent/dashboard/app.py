"""The dashboard: every agent session at a glance, live, and a way to step in.

Layout: the session list (name, status, command, size, age) above a grid of
live previews; Enter shows one session full-size with its scrollback. A worker
thread asks tmux what changed (see ``refresh.py``) and hands the result to
the UI in one piece. Widgets are in ``widgets.py``, the other screens in
``screens.py``, the actions on a session in ``actions.py``, the styles in
``dashboard.tcss``.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, VerticalScroll
from textual.widgets import DataTable, Footer, Header, Input, Static
from textual.worker import get_current_worker

from tmuxagent import Server, SessionInfo, State

from .actions import SessionActions
from .refresh import Refresher, Snapshot
from .screens import FocusScreen
from .widgets import COLUMNS, Preview, SessionTable, session_row

PREVIEW_WIDTH = 48  # a preview column is at least this wide

TYPE_CHECKING = False
if TYPE_CHECKING:
    from .hosts import Hosts


class DashboardApp(SessionActions):
    """Watch and take over the sessions on one tmuxagent server."""

    TITLE = "tmuxagent"
    CSS_PATH = "dashboard.tcss"
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
        server: Server | Hosts,
        *,
        interval: float = 0.1,
        naive: bool = False,
        bell: bool = False,
        clock: Callable[[], float] = time.time,
        label: str | None = None,
    ) -> None:
        super().__init__(server)
        self.interval = interval
        self.clock = clock
        self.refresher = Refresher(server, naive=naive)
        self.sub_title = label if label is not None else str(server.socket_path)
        self.sessions: dict[str, SessionInfo] = {}
        self.filter_text = ""
        #: The list's order: by name, by name backwards, or asking first.
        self.order = "name"
        self.bell_on_asking = bell
        self.states: dict[str, State] = {}
        self.ticks = 0
        #: The full-size view as (session, view number), if any: set on the UI
        #: thread, read by the refresh worker (which must not read ``screen``).
        self.focused_view: tuple[str, int] | None = None
        #: The sessions whose previews are on screen (likewise): only their
        #: screens are fetched (None: not known yet, all of them).
        self.shown_previews: frozenset[str] | None = None
        self._lines: dict[str, list[str]] = {}
        self._previews: dict[str, Preview] = {}
        self._order: list[str] = []
        self._status_text = ""
        self._shown_state: tuple[list[SessionInfo] | None, float] = (None, 0.0)
        # The main view's widgets, kept: other screens may be on top when a tick lands.
        self.filter_box = Input(
            placeholder="filter by name (Enter: keep, Escape: clear)", id="filter"
        )
        self.table: DataTable[Text] = SessionTable(
            id="sessions", cursor_type="row", zebra_stripes=True
        )
        self.status = Static("", id="status", markup=False)  # errors may hold "["
        self.grid = Grid(id="grid")
        self.grid_scroll = VerticalScroll(id="grid-scroll")

    # -- layout ----------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Header(show_clock=False)
        yield self.filter_box
        yield self.table
        yield self.status
        with self.grid_scroll:
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
            snapshot = self.refresher.tick(self.focused_view, self.shown_previews)
            if worker.is_cancelled or not self.is_running:
                return
            try:
                self.call_from_thread(self.apply, snapshot)
            except RuntimeError:  # the app is shutting down
                return
            time.sleep(max(0.0, self.interval - (time.monotonic() - started)))

    def _note_focus(self) -> None:
        """Record which session is shown full-size, for the refresh worker (UI thread)."""
        screen = self.screen
        self.focused_view = screen.key if isinstance(screen, FocusScreen) else None

    def _note_shown(self) -> None:
        """Record which previews were on screen at the last update (UI thread)."""
        if isinstance(self.screen, FocusScreen):
            self.shown_previews = frozenset()
            return
        # Previews fill the grid row by row, each row as tall as a preview;
        # the scroll view shows the rows from scroll_y on.
        top, height = self.grid_scroll.scroll_offset.y, self.grid_scroll.size.height
        columns = max(1, self.size.width // PREVIEW_WIDTH)
        shown = []
        for index, (name, preview) in enumerate(self._previews.items()):
            tall = preview.outer_size.height
            y = index // columns * tall
            if tall and y < top + height and y + tall > top:
                shown.append(name)
        self.shown_previews = frozenset(shown)

    def apply(self, snapshot: Snapshot) -> None:
        """Show one tick's findings (runs on the UI thread)."""
        if not self.table.is_attached:  # a last tick after the app closed
            return
        self._note_focus()  # a full-size view may have been closed or covered since
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
                                if self.filter_text else "")
                             + "".join(f"; {note}" for note in snapshot.warnings))  # fmt: skip
        # Between the refresher's full looks the list is the same: the
        # table and grid change only when it does, or the second does.
        still = snapshot.sessions is self._shown_state[0] and now == self._shown_state[1]
        self._shown_state = (snapshot.sessions, now)
        self.sessions = {info.name: info for info in snapshot.sessions}
        if snapshot.states != self.states:
            self.states = snapshot.states
            still = False
        for name in snapshot.asking:
            state = self.states.get(name)
            question = f": {state.detail}" if state is not None and state.detail else ""
            self.notify(f"{name} is asking{question}", title="asking", timeout=6, markup=False)
        if snapshot.asking and self.bell_on_asking:
            self.bell()
        for name, lines in snapshot.screens.items():
            self._lines[name] = lines
            preview = self._previews.get(name)
            if preview is not None:
                preview.show(lines)
        for name in set(self._lines) - set(self.sessions):
            del self._lines[name]
        if not still:
            self._update_table(now)
            self._update_grid(now)
        self._note_shown()
        if isinstance(self.screen, FocusScreen):
            info = self.sessions.get(self.screen.session_name)
            text = info.describe(now) if info else "gone (the session no longer exists)"
            mine = snapshot.focused_for == self.screen.key
            self.screen.update(snapshot.focused if mine else None, text)

    def _set_status(self, text: str) -> None:
        if text != self._status_text:  # an update re-lays out the screen
            self._status_text = text
            self.status.update(text)

    def _visible(self, infos: list[SessionInfo]) -> list[SessionInfo]:
        needle = self.filter_text.lower()
        chosen = [i for i in infos if needle in i.name.lower()]
        chosen.sort(key=lambda i: i.name.lower(), reverse=self.order == "name backwards")
        if self.order == "asking first":
            chosen.sort(key=lambda i: self._state_word(i.name) != "asking")
        return chosen

    def _state_word(self, name: str) -> str:
        state = self.states.get(name)
        return state.state if state is not None else ""

    def _update_table(self, now: float) -> None:
        table = self.table
        visible = self._visible(list(self.sessions.values()))
        order = [i.name for i in visible]
        cursor_name = self.selected
        if order != self._order:
            table.clear()
            for info in visible:
                table.add_row(*session_row(info, now, self.states.get(info.name)), key=info.name)
            self._order = order
        else:
            for info in visible:
                cells = session_row(info, now, self.states.get(info.name))
                for column, value in zip(COLUMNS, cells, strict=True):
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
            preview.set_info(info, info.describe(now), name == self.selected)

    # -- selection ---------------------------------------------------------------------

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

    @on(Preview.Clicked)
    def _preview_clicked(self, event: Preview.Clicked) -> None:
        self.select(event.session_name)

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

    # -- list actions (the actions on a session are in SessionActions) -------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """In the full-size view, list actions (filter, sort, focus) do not apply."""
        in_focus = isinstance(self.screen, FocusScreen)
        return not (in_focus and action in ("focus_session", "filter", "sort"))

    def action_focus_session(self) -> None:
        if isinstance(self.screen, FocusScreen) or self.selected is None:
            return
        screen = FocusScreen(self.selected)
        self.push_screen(screen)
        self.focused_view = screen.key

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
        """By name, by name backwards, asking first: in turn."""
        orders = ("name", "name backwards", "asking first")
        self.order = orders[(orders.index(self.order) + 1) % len(orders)]
        self.notify(f"sorted: {self.order}", timeout=2)
        self._update_table(self.clock())
        self._update_grid(self.clock())


def run(
    server: Server | Hosts, *, interval: float = 0.1, naive: bool = False, bell: bool = False
) -> int:
    """Run the dashboard on ``server`` until the user quits; its exit status
    (not 0 when it failed)."""
    app = DashboardApp(server, interval=interval, naive=naive, bell=bell)
    app.run()
    return app.return_code or 0

"""The dashboard's widgets: session screens drawn through Textual's Line API.

A preview and the full-size view render only the rows on screen, once per
change of their content. Also the session list's columns and their text.
"""

from __future__ import annotations

import re

from rich.cells import cell_len
from rich.style import Style
from rich.text import Text
from textual import events
from textual.geometry import Region, Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.widget import Widget
from textual.widgets import DataTable

from tmuxagent import SessionInfo

TYPE_CHECKING = False
if TYPE_CHECKING:
    from tmuxagent import State

#: Columns of the session list.
COLUMNS = ("name", "state", "status", "command", "size", "age")
#: How each state looks in the list: a question stands out.
STATE_STYLES = {"asking": "bold reverse red", "working": "yellow", "ready": "green",
                "idle": "dim", "exited": "dim"}  # fmt: skip


class SessionTable(DataTable[Text]):
    """The session list. Textual's DataTable (8.2) measures its columns when
    idle, but keeps the cells it drew before at their old widths: a list
    drawn between a change and that measure stayed cut to its headers'
    widths until a cell changed again. Drawn again here when widths change.
    (Private API of Textual's: Textual calls each class's ``_on_idle``, so
    DataTable's runs twice, the second time with nothing left to do.)"""

    async def _on_idle(self, event: events.Idle) -> None:
        widths = [column.get_render_width(self) for column in self.columns.values()]
        await super()._on_idle(event)
        if widths != [column.get_render_width(self) for column in self.columns.values()]:
            self._clear_caches()
            self.refresh()


def session_row(info: SessionInfo, now: float, state: State | None) -> tuple[Text, ...]:
    """A session's row in the list, one cell per column: Text, so names are not markup."""
    command = info.command if len(info.command) <= 40 else info.command[:39] + "…"
    word = state.state if state is not None else ""
    return (
        Text(info.name),
        Text(word, style=STATE_STYLES.get(word, "")),
        Text(info.describe(now)),
        Text(command),
        Text(f"{info.cols}x{info.rows}"),
        Text(info.age(now)),
    )


#: A colour (or other) sequence in a captured row, for telling blank rows.
_SEQUENCE = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]")


def plain(row: str) -> str:
    """A captured row without its colour sequences."""
    return _SEQUENCE.sub("", row) if "\x1b" in row else row


class TextLines:
    """A screen's rows (with colour sequences, as captured) shown through the
    Line API.

    A row is parsed and rendered only when it is on screen, and then kept by
    its content: output that scrolls moves rows up, and a moved row is not
    rendered again. Trailing blank rows are left out.
    """

    def __init__(self) -> None:
        self.rows: list[str] = []
        self._strips: dict[tuple[str, int, int, Style], Strip] = {}

    def set(self, rows: list[str]) -> None:
        end = len(rows)
        while end and not plain(rows[end - 1]).strip():
            end -= 1
        self.rows = rows[:end]
        if self._strips:
            keep = set(self.rows)
            self._strips = {key: s for key, s in self._strips.items() if key[0] in keep}

    def text(self) -> str:
        """The rows as plain text."""
        return "\n".join(plain(row) for row in self.rows)

    def strip(self, index: int, widget: Widget, x: int, width: int, base: Style) -> Strip | None:
        """Row ``index``, columns ``x`` to ``x + width``, on ``base`` (None: no such row)."""
        if not 0 <= index < len(self.rows):
            return None
        row = self.rows[index]
        key = (row, x, width, base)
        if self._strips and next(iter(self._strips))[1:] != key[1:]:
            self._strips = {}  # resized, scrolled sideways or restyled: start again
        strip = self._strips.get(key)
        if strip is None:
            text = Text.from_ansi(row, end="")
            whole = Strip(list(text.render(widget.app.console)))
            strip = self._strips[key] = whole.crop_extend(x, x + width, base).apply_style(base)
        return strip


class Preview(Widget):
    """A session's screen, cropped to the widget: the last rows, as in tmux."""

    DEFAULT_CSS = """
    Preview { height: 100%; border: round $panel-lighten-2; padding: 0 1; }
    Preview.-selected { border: round $accent; }
    Preview.-dead { border: round $error; }
    """

    class Clicked(Message):
        """A preview was clicked: its session becomes the selected one."""

        def __init__(self, session_name: str) -> None:
            super().__init__()
            self.session_name = session_name

    def __init__(self, name: str) -> None:
        super().__init__(classes="preview")
        self.session_name = name
        self.content = TextLines()
        self._base: Style | None = None
        self._titles = ("", "")

    def show(self, rows: list[str]) -> None:
        """Show these rows (the last of them, as many as fit); only the lines
        that differ from what is shown are painted again (not the border)."""
        width, height = self.size
        before = self._shown(height)
        self.content.set(rows)
        after = self._shown(height)
        if not width or not height:
            self.refresh()
            return
        changed = [y for y in range(height) if before[y] != after[y]]
        if changed:
            self.refresh(*(Region(0, y, width, 1) for y in changed))

    def _shown(self, height: int) -> list[str | None]:
        """The rows on the preview's lines now (None: a blank line)."""
        rows = self.content.rows[-height:] if height else []
        return [*rows, *[None] * (height - len(rows))]

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
        width, height = self.size
        start = max(0, len(self.content.rows) - height)
        strip = self.content.strip(start + y, self, 0, width, self._base)
        return Strip.blank(width, self._base) if strip is None else strip

    def on_click(self) -> None:
        self.post_message(self.Clicked(self.session_name))


class ScreenView(ScrollView):
    """One session full-size, with its scrollback; follows the bottom."""

    def __init__(self) -> None:
        super().__init__(id="screen-view")
        self.content = TextLines()

    def show(self, rows: list[str]) -> None:
        at_bottom = self.scroll_y >= self.max_scroll_y - 1
        self.content.set(rows)
        width = max((cell_len(plain(row)) for row in self.content.rows), default=0)
        self.virtual_size = Size(width, len(self.content.rows))
        if at_bottom:
            self.scroll_end(animate=False)
        self.refresh()

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        width = self.size.width
        base = self.rich_style
        strip = self.content.strip(scroll_y + y, self, scroll_x, width, base)
        return Strip.blank(width, base) if strip is None else strip

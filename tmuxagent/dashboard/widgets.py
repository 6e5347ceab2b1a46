"""The dashboard's widgets: session screens drawn through Textual's Line API.

A preview and the full-size view render only the rows on screen, once per
change of their content. Also the session list's columns and their text.
"""

from __future__ import annotations

from rich.style import Style
from rich.text import Text
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.widget import Widget

from tmuxagent import SessionInfo

#: Columns of the session list.
COLUMNS = ("name", "status", "command", "size", "age")


def session_row(info: SessionInfo, now: float) -> tuple[Text, ...]:
    """A session's row in the list, one cell per column: Text, so names are not markup."""
    command = info.command if len(info.command) <= 40 else info.command[:39] + "…"
    return (
        Text(info.name),
        Text(info.describe(now)),
        Text(command),
        Text(f"{info.cols}x{info.rows}"),
        Text(info.age(now)),
    )


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
        self.post_message(self.Clicked(self.session_name))


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

"""The dashboard's other screens: one session full-size, its log, and two dialogs.

Session names and paths are shown as Text, never read as markup.
"""

from __future__ import annotations

import itertools

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen, Screen
from textual.widgets import Footer, Header, Input, Label, Log

from .widgets import ScreenView

_views = itertools.count(1)


class FocusScreen(Screen[None]):
    """A session full-size. Escape goes back."""

    BINDINGS = [Binding("escape", "app.pop_screen", "Back")]

    def __init__(self, name: str) -> None:
        super().__init__()
        self.session_name = name
        #: This view, for the refresh worker: a new view gets the whole screen.
        self.key = (name, next(_views))
        self.title_label = Label(Text(f" {name}"), id="focus-title")
        self.view = ScreenView()
        self._title = ""
        self._pending: list[str] | None = None

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

    def update(self, lines: list[str] | None, status: str) -> None:
        """Show a tick's findings; the first may land before the screen is mounted."""
        title = f" {self.session_name}: {status}"
        if title != self._title:
            self._title = title
            self.title_label.update(Text(title))
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
            yield Label(Text(self.prompt))
            yield Input(placeholder=self.placeholder, id="ask-input")

    @on(Input.Submitted)
    def submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value)

    def action_cancel(self) -> None:
        self.dismiss(None)


class ConfirmScreen(ModalScreen[bool]):
    """A yes/no question: y answers yes; n or Escape, no."""

    BINDINGS = [
        Binding("y", "answer(True)", "Yes"),
        Binding("n,escape", "answer(False)", "No"),
    ]

    def __init__(self, question: str) -> None:
        super().__init__()
        self.question = question

    def compose(self) -> ComposeResult:
        with Vertical(id="ask"):
            yield Label(Text(self.question))
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
        yield Label(Text(f" log of {self.session_name}: {self.path}"))
        yield Log(id="log", highlight=False)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(Log).write(self.text)

"""The layers hold: imports run one way (tests/layers.py, docs/architecture.md)."""

from __future__ import annotations

from tests import layers


def test_the_source_keeps_to_its_layers() -> None:
    found = layers.check_tree()
    assert not found, "Imports against the layers:\n" + "\n".join(map(str, found))


def test_no_module_of_the_case_engine_imports_an_app_above_it() -> None:
    """Not even its pages: the case page shows what other apps add through the seam."""
    above = {"documents", "payments", "exchange", "mailbox", "registers"}
    found = [
        f"{module} imports {imported}"
        for module, path in layers.modules()
        if layers.app_of(module) == "cases"
        for _node, imported, _inside, _function in layers.imports_of(path)
        if layers.app_of(imported) in above
    ]
    assert not found, "\n".join(found)


def test_an_import_against_the_layers_is_caught() -> None:
    """The checker itself: an engine module that imports the mailbox, at the top or inside a
    function, fails; the same import in a page module passes."""
    upward = "from salter.mailbox import outbox\n"
    found = layers.check_source("salter.cases.services.submission", upward)
    assert [v.imported for v in found] == ["salter.mailbox"]
    assert "may not import mailbox" in found[0].why

    hidden = "def submit():\n    from salter.payments import services\n"
    whys = [v.why for v in layers.check_source("salter.cases.services.submission", hidden)]
    assert len(whys) == 2
    assert any("inside a function" in why for why in whys)
    assert any("may not import payments" in why for why in whys)

    assert layers.check_source("salter.cases.official_views", upward) == []


def test_a_domain_module_may_not_import_a_page_and_types_are_free() -> None:
    page = "from salter.identity.views import start_session\n"
    found = layers.check_source("salter.identity.services", page)
    assert [v.why for v in found] == ["a domain module imports a page"]

    typing_only = (
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n"
        "    from salter.mailbox.models import Message\n"
    )
    assert layers.check_source("salter.cases.models", typing_only) == []


def test_apps_register_their_listeners_in_ready() -> None:
    ready = "class Config:\n    def ready(self):\n        from salter.mailbox import listeners\n"
    assert layers.check_source("salter.mailbox.apps", ready) == []

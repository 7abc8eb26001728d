"""Instruction templates: bare names only, filled once, never evaluated."""

from chatkitd.templating import render


def test_placeholders_take_state_variables():
    assert render("Hi {{ name }}, {{plan}} plan", {"name": "Ada", "plan": "pro"}) == "Hi Ada, pro plan"
    assert render("{{ n }} {{ ok }} {{ missing }}.", {"n": 3, "ok": True}) == "3 true ."


def test_templates_cannot_reach_into_objects_or_run_twice():
    assert render("{{ a.__class__ }} {{ a['x'] }} {{ a|upper }}", {"a": "x"}) == (
        "{{ a.__class__ }} {{ a['x'] }} {{ a|upper }}"
    )
    # A value that looks like a placeholder is text, not a second template.
    assert render("{{ a }}", {"a": "{{ b }}", "b": "secret"}) == "{{ b }}"

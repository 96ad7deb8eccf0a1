"""refrope's specification suite: every clause of docs/spec, checked with hypothesis and pytest."""

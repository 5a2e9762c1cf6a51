"""Cuts: a clip's full-length edit, window by window.

`models` (a cut and its windows), `windows` (where "Split the clip into windows" puts them, on
the clip's shot cuts), `services` (make a cut, lay out and move its windows, edit every window
at once with handles, all or none against the budgets, choose a take per window).
"""

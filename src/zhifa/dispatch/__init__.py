"""Dispatch and the command centre (指挥中心): what is happening in the field, live.

- ``live``: officers' duty status and positions (the latest kept hot, the track kept for
  supervision); ``recommend``: the nearest available pair, owning squad first, with the reason each
  nearer officer was skipped.
- ``pages`` / ``queue`` / ``stream``: the dispatcher's page ``/command`` — a live map (grids,
  officers by status, complaints by SLA state), the complaint queue with countdowns, the
  recommendation panel with one-click dispatch and each complaint's timeline, today's inspections —
  updated by server-sent events from ``/command/stream``.
"""

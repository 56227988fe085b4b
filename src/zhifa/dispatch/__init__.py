"""Dispatch and the command centre (指挥中心): what is happening in the field today, live.

The command page lists today's inspections in the viewer's data scope and the latest documents,
with a map of today's task subjects; ``/command/stream`` pushes ``inspection.submitted``,
``document.issued`` and ``check_in`` events of the viewer's districts as server-sent events.
Officer positions, the nearest-officer recommendation and assignment come with the complaints work.
"""

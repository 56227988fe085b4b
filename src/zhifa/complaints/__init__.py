"""Complaints (投诉举报): intake from the public page, Open311, the hotline and 12345 imports;
routing to a department and a squad; the handling loop; SLA clocks; the citizen's answer."""

// Distance from a fix to a subject's fence, for display only (the server decides check-ins).
const R = 6371008.8;

function project(lon, lat, lat0) {
  const rad = Math.PI / 180;
  return [lon * rad * R * Math.cos(lat0 * rad), lat * rad * R];
}

function inside(point, ring) {
  let hit = false;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    const [xi, yi] = ring[i];
    const [xj, yj] = ring[j];
    if ((yi > point[1]) !== (yj > point[1]) && point[0] < ((xj - xi) * (point[1] - yi)) / (yj - yi) + xi) {
      hit = !hit;
    }
  }
  return hit;
}

function segmentDistance(p, a, b) {
  const dx = b[0] - a[0];
  const dy = b[1] - a[1];
  const length = dx * dx + dy * dy;
  const k = length ? Math.max(0, Math.min(1, ((p[0] - a[0]) * dx + (p[1] - a[1]) * dy) / length)) : 0;
  return Math.hypot(p[0] - (a[0] + k * dx), p[1] - (a[1] + k * dy));
}

// Metres from (lon, lat) to the subject's fence (0 inside); null when it has no fence.
export function fenceDistance(subject, lon, lat) {
  if (subject.geofence && subject.geofence.coordinates) {
    const rings = subject.geofence.coordinates.map((ring) => ring.map(([x, y]) => project(x, y, lat)));
    const point = project(lon, lat, lat);
    if (inside(point, rings[0]) && !rings.slice(1).some((hole) => inside(point, hole))) return 0;
    let best = Infinity;
    for (const ring of rings) {
      for (let i = 1; i < ring.length; i++) best = Math.min(best, segmentDistance(point, ring[i - 1], ring[i]));
    }
    return best;
  }
  if (subject.geofence_radius_m && subject.lon !== null && subject.lat !== null) {
    const a = project(subject.lon, subject.lat, lat);
    const b = project(lon, lat, lat);
    return Math.max(0, Math.hypot(a[0] - b[0], a[1] - b[1]) - subject.geofence_radius_m);
  }
  return null;
}

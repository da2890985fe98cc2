"""Server-rendered SVG charts (no script, no CDN, no inline style: presentation attributes only, which the
Content Security Policy allows). Pure: data in, markup out; every text is escaped."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

W, H = 760, 260
LEFT, RIGHT, TOP, BOTTOM = 48, 48, 16, 36


def bars_and_line(labels: Sequence[str], bars: Sequence[float], line: Sequence[float | None], *,
                  bar_name: str, line_name: str, target: float | None = None, title: str = "") -> str:
    """Bars (a count, left axis) with a line of a share 0..1 (right axis, as %), and an optional dashed
    target line on the share axis."""
    n = len(labels)
    if n == 0:
        return ""
    pw, ph = W - LEFT - RIGHT, H - TOP - BOTTOM
    top = max([*bars, 1.0])
    step = pw / n
    bw = max(1.0, step * 0.7)
    out = [f'<svg class="chart" viewBox="0 0 {W} {H}" role="img" aria-label="{escape(title)}" '
           f'xmlns="http://www.w3.org/2000/svg">', f"<title>{escape(title)}</title>"]
    for frac in (0.0, 0.5, 1.0):
        y = TOP + ph * (1 - frac)
        out.append(f'<line x1="{LEFT}" y1="{y:.1f}" x2="{W - RIGHT}" y2="{y:.1f}" stroke="#d5dbe3"/>')
        out.append(f'<text x="{LEFT - 4}" y="{y + 4:.1f}" text-anchor="end" font-size="11" fill="#5b6675">'
                   f"{top * frac:.0f}</text>")
        out.append(f'<text x="{W - RIGHT + 4}" y="{y + 4:.1f}" font-size="11" fill="#0b5cad">{frac * 100:.0f}%</text>')
    every = max(1, n // 12)
    for i, (label, v) in enumerate(zip(labels, bars, strict=True)):
        x = LEFT + i * step + (step - bw) / 2
        h = ph * v / top
        out.append(f'<rect class="bar" x="{x:.1f}" y="{TOP + ph - h:.1f}" width="{bw:.1f}" height="{h:.1f}" '
                   f'fill="#9ec5ef"><title>{escape(label)}: {v:g}</title></rect>')
        if i % every == 0:
            out.append(f'<text x="{x + bw / 2:.1f}" y="{H - BOTTOM + 14}" text-anchor="middle" font-size="11" '
                       f'fill="#5b6675">{escape(label)}</text>')
    points = [(LEFT + i * step + step / 2, TOP + ph * (1 - v)) for i, v in enumerate(line) if v is not None]
    if points:
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
        out.append(f'<polyline class="line" points="{path}" fill="none" stroke="#0b5cad" stroke-width="2"/>')
        out.extend(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.5" fill="#0b5cad"/>' for x, y in points)
    if target is not None:
        y = TOP + ph * (1 - target)
        out.append(f'<line class="target" x1="{LEFT}" y1="{y:.1f}" x2="{W - RIGHT}" y2="{y:.1f}" stroke="#b42318" '
                   f'stroke-dasharray="4 3"/>')
    ly = H - 8
    out.append(f'<rect x="{LEFT}" y="{ly - 9}" width="10" height="10" fill="#9ec5ef"/>'
               f'<text x="{LEFT + 14}" y="{ly}" font-size="11">{escape(bar_name)}</text>'
               f'<line x1="{LEFT + 160}" y1="{ly - 4}" x2="{LEFT + 176}" y2="{ly - 4}" stroke="#0b5cad" '
               f'stroke-width="2"/>'
               f'<text x="{LEFT + 180}" y="{ly}" font-size="11">{escape(line_name)}</text>')
    out.append("</svg>")
    return "".join(out)

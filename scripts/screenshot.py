"""Screenshot of an HTML report for the README:
`python scripts/screenshot.py out/demo.html docs/img/demo-report.png --height 4300 --scale 0.45` (the README's).

The top of the page (headline and first charts) at 1280x1100, scaled down so the PNG stays small; prints the
file's size, the report's render time in the browser, and the charts it drew, as JSON on its last line.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from inferplan.report.browser import Browser


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("report", type=Path)
    ap.add_argument("png", type=Path)
    ap.add_argument("--height", type=int, default=1100)
    ap.add_argument("--scale", type=float, default=0.55)
    args = ap.parse_args()
    with Browser() as b:
        page = b.check(args.report, height=args.height, scale=args.scale)
    args.png.parent.mkdir(parents=True, exist_ok=True)
    args.png.write_bytes(page.screenshot)
    print(json.dumps({"report_bytes": args.report.stat().st_size, "png_bytes": len(page.screenshot),
                      "render_ms": round(page.render_ms), "charts": page.charts, "drawn": page.drawn,
                      "sections": page.sections, "console_errors": page.console_errors,
                      "requests": page.requests}))


if __name__ == "__main__":
    main()

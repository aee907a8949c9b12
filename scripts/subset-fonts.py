#!/usr/bin/env python3
"""Cut Det Fælles Designsystem's IBM Plex Sans down to what Gensidig's pages use, as WOFF2.

Called by scripts/vendor-frontend.sh after it has copied the design system's CSS; needs fontTools
with brotli (`make install-test`). It

1. keeps only the faces the pages use -- regular, italic (figures that are withheld), semibold
   (labels, the app's own headings) and bold (h1, <strong>) -- and only the characters Danish and
   English text needs: Basic Latin, Latin-1 (æ ø å é ü « » × ·), what else a Windows-1252 text
   from Danish Excel can hold (š, œ, €, ™), typographic punctuation (– — ‘ ’ “ ” • … ‰) and the few
   signs the pages print (− ≈ ≠ ≤ ≥ → ✓). tests/test_page_weight.py checks that this covers every
   character of the templates, the Danish catalogue and the framework texts;
2. drops the hinting (screen rasterisers in current browsers do without it; it was a quarter of
   each file) and writes WOFF2 only -- every browser in use reads it;
3. renames the family to "Gensidig Sans": Plex is a Reserved Font Name under the SIL Open Font
   Licence, and a subset is a Modified Version, which may not carry it. The copyright notice and
   the licence stay in the files, and OFL-license.txt beside them;
4. rewrites the design system's CSS in place: its @font-face rules for IBM Plex Sans (which
   listed WOFF before WOFF2, so browsers took the larger WOFF) become one rule per kept face,
   WOFF2 only, font-display: swap, and every use of the family name becomes the new name.

Usage: subset-fonts.py --source DIR --css FILE --out DIR
  --source  the design system's complete WOFF2 files (dist/fonts/IBMPlexSans/complete/woff2)
  --css     the vendored dkfds.min.css, rewritten in place
  --out     where the subset fonts go (replaced)
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import sys
from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTFont

OLD_FAMILY = "IBM Plex Sans"
FAMILY = "Gensidig Sans"
# (CSS weight, CSS style, the file's style name); the design system also has 500 (unused here:
# h6, tags) and italics of every weight, which the pages never ask for.
FACES = [(400, "normal", "Regular"), (400, "italic", "Italic"), (600, "normal", "SemiBold"), (700, "normal", "Bold")]
UNICODE_RANGES = [
    (0x0020, 0x007E),  # Basic Latin
    (0x00A0, 0x00FF),  # Latin-1 Supplement: æ ø å Æ Ø Å é ü « » × · ² and the no-break space
    (0x0131, 0x0131),  # dotless i
    (0x0152, 0x0153),  # Œ œ, and below the rest of Windows-1252 (names from Danish Excel files)
    (0x0160, 0x0161),
    (0x0178, 0x0178),
    (0x017D, 0x017E),
    (0x0192, 0x0192),
    (0x02C6, 0x02C6),
    (0x02DC, 0x02DC),
    (0x2000, 0x206F),  # General Punctuation: spaces, dashes, quotes, bullet, ellipsis, per mille
    (0x20AC, 0x20AC),  # €
    (0x2122, 0x2122),  # ™
    (0x2190, 0x2193),  # arrows
    (0x2212, 0x2212),  # minus sign
    (0x2248, 0x2248),  # ≈
    (0x2260, 0x2260),  # ≠
    (0x2264, 0x2265),  # ≤ ≥
    (0x2713, 0x2713),  # ✓ (the design system's checkbox)
]
# Must be in every face, or the subset is wrong (they are in IBM Plex Sans).
REQUIRED = "æøåÆØÅéÉüÜ«»–—‘’“”•…×·−≈≤≥→✓€ "
NAME_IDS = [0, 1, 2, 3, 4, 5, 6, 13, 14, 16, 17]  # copyright and licence kept
README = f"""# {FAMILY}

IBM Plex Sans (copyright 2017 IBM Corp., SIL Open Font License 1.1, see OFL-license.txt), as
Det Fælles Designsystem ships it, cut down by scripts/subset-fonts.py to the faces and characters
Gensidig's pages use. A subset is a Modified Version under the licence, and Plex is a Reserved
Font Name, so these files carry the name {FAMILY}. Do not edit them: run scripts/vendor-frontend.sh.
"""


def unicodes() -> list[int]:
    return [code for start, end in UNICODE_RANGES for code in range(start, end + 1)]


def file_name(style_name: str) -> str:
    return f"{FAMILY.replace(' ', '')}-{style_name}.woff2"


def subset_face(source: Path, target: Path) -> TTFont:
    options = subset.Options()
    options.flavor = "woff2"
    options.hinting = False
    options.desubroutinize = True
    options.name_IDs = NAME_IDS
    # The original's own date stays in the file, so that the same input gives the same bytes.
    font = TTFont(source, recalcTimestamp=False)
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=unicodes())
    subsetter.subset(font)
    for record in font["name"].names:
        if record.nameID in (1, 3, 4, 6, 16, 17):
            text = record.toUnicode()
            text = text.replace(OLD_FAMILY, FAMILY).replace(OLD_FAMILY.replace(" ", ""), FAMILY.replace(" ", ""))
            record.string = text
    leftover = [r.toUnicode() for r in font["name"].names if r.nameID != 0 and "Plex" in r.toUnicode()]
    if leftover:
        raise SystemExit(f"{target.name}: the reserved name is still in {leftover}")
    missing = [c for c in REQUIRED if ord(c) not in font.getBestCmap()]
    if missing:
        raise SystemExit(f"{target.name}: the subset lacks {''.join(missing)!r}")
    subset.save_font(font, str(target), options)
    return TTFont(target)


def unicode_range(font: TTFont) -> str:
    """The characters a face has, as a CSS unicode-range (the browser asks another font for the rest)."""
    codes = sorted(font.getBestCmap())
    ranges, start, previous = [], codes[0], codes[0]
    for code in [*codes[1:], None]:
        if code is not None and code == previous + 1:
            previous = code
            continue
        ranges.append(f"U+{start:X}" if start == previous else f"U+{start:X}-{previous:X}")
        if code is not None:
            start = previous = code
    return ",".join(ranges)


def font_face_rules(faces: list[tuple[int, str, str, TTFont]], url_prefix: str) -> str:
    return "".join(
        f"@font-face{{font-display:swap;font-family:{FAMILY};font-style:{style};font-weight:{weight};"
        f'src:url({url_prefix}{file_name(name)}) format("woff2");unicode-range:{unicode_range(font)}}}'
        for weight, style, name, font in faces
    )


def rewrite_css(css: str, rules: str) -> str:
    """The design system's @font-face rules for the old family replaced by `rules`; the family renamed."""
    pattern = re.compile(r"@font-face\{[^}]*font-family:\s*[\"']?" + re.escape(OLD_FAMILY) + r"[\"']?\s*;[^}]*\}")
    first = pattern.search(css)
    if first is None:
        raise SystemExit(f"the CSS has no @font-face rule for {OLD_FAMILY}: has the design system changed?")
    css = css[: first.start()] + rules + pattern.sub("", css[first.start() :])
    css = css.replace(OLD_FAMILY, FAMILY)
    if "Plex" in css:
        raise SystemExit("the CSS still names Plex after the rewrite")
    return css


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--source", type=Path, required=True)
    parser.add_argument("--css", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)

    if args.out.exists():
        shutil.rmtree(args.out)
    args.out.mkdir(parents=True)
    faces = []
    for weight, style, name in FACES:
        source = args.source / f"{OLD_FAMILY.replace(' ', '')}-{name}.woff2"
        target = args.out / file_name(name)
        font = subset_face(source, target)
        faces.append((weight, style, name, font))
        print(f"{target.name}: {source.stat().st_size:,} -> {target.stat().st_size:,} bytes")
    (args.out / "README.md").write_text(README, encoding="utf-8")
    url_prefix = os.path.relpath(args.out, args.css.parent).replace(os.sep, "/") + "/"
    css = rewrite_css(args.css.read_text(encoding="utf-8"), font_face_rules(faces, url_prefix))
    args.css.write_text(css, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

#!/usr/bin/env python3
"""Draws the Featurescope application icon (resources/icons/featurescope.png).

A dark rounded tile holding a row of "tokens" whose warm highlight rises and falls like a
feature's activation over a context, under a lens ring. Pure Python (zlib + struct), so it
reproduces on any machine: python3 scripts/make_icon.py
"""
import math
import struct
import sys
import zlib

SIZE = 256


def blend(dst, src, a):
    return tuple(int(d * (1 - a) + s * a) for d, s in zip(dst, src))


def rounded_rect_alpha(x, y, x0, y0, x1, y1, r):
    cx = min(max(x, x0 + r), x1 - r)
    cy = min(max(y, y0 + r), y1 - r)
    d = math.hypot(x - cx, y - cy)
    return max(0.0, min(1.0, r + 0.5 - d))


def main(path):
    bg_top, bg_bottom = (30, 41, 66), (17, 24, 39)
    pixels = []
    acts = [0.15, 0.35, 0.9, 1.0, 0.55, 0.2, 0.1]
    for y in range(SIZE):
        row = []
        for x in range(SIZE):
            a = rounded_rect_alpha(x, y, 8, 8, SIZE - 9, SIZE - 9, 44)
            t = y / SIZE
            c = tuple(int(bg_top[i] * (1 - t) + bg_bottom[i] * t) for i in range(3))
            # token cells with activation-coloured highlight
            n = len(acts)
            cell_w, gap, x_start, y0, y1 = 26, 4, 25, 150, 196
            k = (x - x_start) // (cell_w + gap)
            if 0 <= k < n and (x - x_start) % (cell_w + gap) < cell_w and y0 <= y < y1:
                act = acts[k]
                c = blend((55, 65, 81), (251, 146, 60), act)
            # activation curve bars above the tokens
            if 0 <= k < n and (x - x_start) % (cell_w + gap) < cell_w:
                h = int(acts[k] * 80)
                if 140 - h <= y < 140:
                    c = blend(c, (253, 186, 116), 0.85)
            # lens ring
            d = math.hypot(x - 168, y - 86)
            ring = max(0.0, 1.0 - abs(d - 48) / 4.0)
            c = blend(c, (147, 197, 253), ring)
            row.append(c + (int(255 * a),))
        pixels.append(row)

    raw = b"".join(b"\x00" + b"".join(struct.pack("BBBB", *p) for p in row) for row in pixels)

    def chunk(tag, data):
        body = tag + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)

    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", SIZE, SIZE, 8, 6, 0, 0, 0))
    png += chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")
    with open(path, "wb") as f:
        f.write(png)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "resources/icons/featurescope.png")

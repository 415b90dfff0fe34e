#!/usr/bin/env python3
"""Prints the criterion results of one bench group as a Markdown table with
ratios against the peer and the floor.

    python3 benches/ratios.py oath   # after: cargo bench -p mfa-benches --bench oath
"""
import json
import os
import sys

ROOT = os.environ.get("CARGO_TARGET_DIR", os.path.join(os.path.dirname(__file__), "..", "target"))


def estimate(group, bench):
    path = os.path.join(ROOT, "criterion", group, bench, "new", "estimates.json")
    with open(path) as f:
        e = json.load(f)
    return e["median"]["point_estimate"]


def oath():
    g = "totp_verify"
    ours_v = estimate(g, "mfa-oath_valid")
    ours_i = estimate(g, "mfa-oath_invalid")
    peer_v = estimate(g, "totp-rs_valid")
    peer_i = estimate(g, "totp-rs_invalid")
    floor = estimate(g, "floor_hmac-sha1-prekeyed")
    # Steps tried: a valid code at the current step is found first (1 HMAC);
    # an invalid code tries the whole ±1 window (3 HMACs).
    print("| benchmark | median | vs totp-rs | vs floor × steps tried |")
    print("|---|---|---|---|")
    print(f"| mfa-oath verify, valid code (1 step tried) | {ours_v:.0f} ns | {peer_v / ours_v:.2f}× faster | {ours_v / floor:.2f}× of 1 × floor |")
    print(f"| mfa-oath verify, invalid code (3 steps tried) | {ours_i:.0f} ns | {peer_i / ours_i:.2f}× faster | {ours_i / (3 * floor):.2f}× of 3 × floor |")
    print(f"| totp-rs 6 check, valid code | {peer_v:.0f} ns | 1.00× | |")
    print(f"| totp-rs 6 check, invalid code | {peer_i:.0f} ns | 1.00× | |")
    print(f"| floor: pre-keyed HMAC-SHA1 of an 8-byte counter | {floor:.0f} ns | | 1.00× |")


if __name__ == "__main__":
    {"oath": oath}[sys.argv[1] if len(sys.argv) > 1 else "oath"]()

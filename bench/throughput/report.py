"""Medians of the wrk runs of bench/throughput, as bench/results/throughput.md.

Usage: report.py RAW_DIR RESULT_FILE. RAW_DIR holds `meta` (key=value lines) and
<round>-<variant>.txt, the output of `wrk --latency`. Exits non-zero only when
the runs cannot be read; a missed target is reported, not an error.
"""

import pathlib
import re
import statistics
import sys

VARIANTS = {
    "a": "mod_wsgi daemon mode, the app role's defaults",
    "b": "mod_wsgi daemon mode, the source guide's 1 process x 5 threads",
    "c": "gunicorn alone, 2 x CPUs + 1 sync workers",
    "d": "nginx -> gunicorn (c), upstream keepalive",
    "e": "Apache, a static file with the same body (ceiling)",
}
UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}
BYTES = {"B": 1, "KB": 1024, "MB": 1024**2, "GB": 1024**3}


def parse_wrk(text, size):
    """requests/s, p50 and p99 in ms, and the error lines of one wrk --latency output.

    size: the bytes of one whole answer as curl saw it; wrk's bytes per request must be
    close to it, or wrk measured some other page (a Host header it did not send, say).
    """
    rps = re.search(r"^Requests/sec:\s+([0-9.]+)", text, re.M)
    lat = dict(re.findall(r"^\s+(50|99)%\s+([0-9.]+(?:us|ms|s))$", text, re.M))
    if not rps or set(lat) != {"50", "99"}:
        raise ValueError("not the output of wrk --latency:\n" + text)
    ms = {}
    for pct, value in lat.items():
        number, unit = re.match(r"([0-9.]+)(us|ms|s)", value).groups()
        ms[pct] = float(number) * UNITS[unit]
    if "Non-2xx" in text:
        # A server answering errors is not a result to compare: the harness is broken.
        raise ValueError("answers other than 2xx:\n" + text)
    count, amount, unit = re.search(r"(\d+) requests in [^,]+, ([0-9.]+)(B|KB|MB|GB) read", text).groups()
    per_request = float(amount) * BYTES[unit] / int(count)
    if not 0.75 * size <= per_request <= 1.33 * size:
        raise ValueError("%.0f bytes per answer, not about %d: wrong target?\n%s" % (per_request, size, text))
    errors = [line.strip() for line in text.splitlines() if "errors" in line]
    return float(rps.group(1)), ms["50"], ms["99"], errors


def main(raw_dir, result_file):
    raw = pathlib.Path(raw_dir)
    meta = dict(line.split("=", 1) for line in (raw / "meta").read_text().splitlines() if "=" in line)
    rounds = int(meta["rounds"])
    runs = {
        v: [parse_wrk((raw / ("%d-%s.txt" % (r, v))).read_text(), int(meta["size_" + v])) for r in range(1, rounds + 1)]
        for v in VARIANTS
    }
    med = {
        v: {k: statistics.median(run[i] for run in runs[v]) for i, k in enumerate(("rps", "p50", "p99"))}
        for v in VARIANTS
    }

    a = med["a"]
    targets = [
        ("(a) req/s >= 1.1 x (d)", a["rps"] / med["d"]["rps"], 1.1, a["rps"] >= 1.1 * med["d"]["rps"]),
        ("(a) req/s >= 0.9 x (c)", a["rps"] / med["c"]["rps"], 0.9, a["rps"] >= 0.9 * med["c"]["rps"]),
        ("(a) req/s >= 1.3 x (b)", a["rps"] / med["b"]["rps"], 1.3, a["rps"] >= 1.3 * med["b"]["rps"]),
        ("(a) p99 <= (d) p99", a["p99"] / med["d"]["p99"], 1.0, a["p99"] <= med["d"]["p99"]),
    ]

    out = []
    out.append("# bench/throughput results\n")
    out.append("Written by `make bench-throughput` (bench/throughput/run); do not edit by hand.\n")
    out.append("- date: %s; CPUs (getconf _NPROCESSORS_ONLN in the container): **%s**" % (meta["date"], meta["cpus"]))
    out.append(
        "- CPU the rest of the machine used while the bench was idle (3 s before each round, and after the last),"
        " in %% of all its CPUs: %s; %s%%"
        % (", ".join(meta["round%d" % r] + "%" for r in range(1, rounds + 1)), meta["after"])
    )
    versions = [meta[k] for k in ("apache", "mod_wsgi", "python", "flask", "gunicorn", "nginx", "wrk")]
    out.append("- %s; mod_wsgi %s (Debian package); Python %s; Flask %s; gunicorn %s; nginx %s; %s" % tuple(versions))
    out.append("- wrk inside the container: `%s`, %d interleaved rounds (a b c d e)" % (meta["wrk_args"], rounds))
    out.append("- (a) `WSGIDaemonProcess %s`" % meta["daemon_a"])
    out.append("- Apache MPM settings: `%s`" % meta["mpm"])
    out.append(
        "- setup (container start and deploy) %ss, whole run %ss" % (meta["setup_seconds"], meta["total_seconds"])
    )
    slots = re.search(r"processes=(\d+) threads=(\d+)", meta["daemon_a"])
    slots = int(slots.group(1)) * int(slots.group(2)) if slots else "?"
    out.append(
        "\nwrk's connections outnumber the %s request slots of (a) (processes x threads) and the %s workers"
        " of (c), so every server is kept busy and queueing shows in p99; wrk shares the CPUs with the"
        " servers, so it gets few threads. p50 and p99 are wrk's own (--latency). Every answer is"
        " checked first (status 200, the same body) and wrk's bytes per request must match it.\n"
        % (slots, meta["workers_c"])
    )

    out.append("## Medians\n")
    out.append("| | server | req/s | p50 ms | p99 ms | req/s ÷ (b) | ÷ (c) | ÷ (d) | p99 ÷ (b) | ÷ (c) | ÷ (d) |")
    out.append("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for v, what in VARIANTS.items():
        m = med[v]
        out.append(
            "| (%s) | %s | %.0f | %.2f | %.2f | %s | %s |"
            % (
                v,
                what,
                m["rps"],
                m["p50"],
                m["p99"],
                " | ".join("%.2f" % (m["rps"] / med[r]["rps"]) for r in "bcd"),
                " | ".join("%.2f" % (m["p99"] / med[r]["p99"]) for r in "bcd"),
            )
        )
    out.append("\np50 ÷ (b), (c), (d) for (a): %s\n" % ", ".join("%.2f" % (a["p50"] / med[r]["p50"]) for r in "bcd"))

    out.append("## Targets\n")
    out.append("| target | ratio | wanted | |")
    out.append("|---|---:|---:|---|")
    for name, ratio, wanted, met in targets:
        sign = "<=" if "p99" in name else ">="
        out.append("| %s | %.2f | %s %.1f | %s |" % (name, ratio, sign, wanted, "met" if met else "**missed**"))

    out.append("\n## Every run (req/s, p50 ms, p99 ms)\n")
    out.append("| | " + " | ".join("round %d" % r for r in range(1, rounds + 1)) + " |")
    out.append("|---|" + "---|" * rounds)
    for v in VARIANTS:
        out.append("| (%s) | " % v + " | ".join("%.0f, %.2f, %.2f" % run[:3] for run in runs[v]) + " |")
    errors = [
        "(%s) round %d: %s" % (v, r + 1, "; ".join(run[3])) for v in VARIANTS for r, run in enumerate(runs[v]) if run[3]
    ]
    if errors:
        out.append("\nwrk reported errors (socket errors are mostly keep-alive connections the server closed):\n")
        out.extend("- " + e for e in errors)

    text = "\n".join(out) + "\n"
    pathlib.Path(result_file).write_text(text, encoding="utf-8")
    summary = text.split("## Every run", maxsplit=1)[0]
    print(summary.split("## Medians", 1)[1].strip())
    print("\nwritten to %s" % result_file)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])

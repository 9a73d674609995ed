"""The report's sections beyond the table of pages: throughput, the sweep, others' data."""

THROUGHPUT_BUDGET = 0.40  # of the trivial call's requests per second (issue 13.3)
GROWTH_BUDGET = 1.25  # a page's ratio to the trivial call may grow this much when others' double


def load(rows: list[tuple[str, float]]) -> str:
    if not rows:
        return ""
    trivial = rows[0][1]
    lines = ["", "## Throughput: 20 connections (wrk, 2 threads), the CRM signed in", "",
             "| endpoint | requests/s | of `/api/v1/me/` | budget (≥ 40 %) |",
             "|---|---:|---:|---|"]
    for path, rate in rows:
        share = rate / trivial
        verdict = "—" if path == rows[0][0] else (
            "within" if share >= THROUGHPUT_BUDGET else "**over**")
        lines.append(f"| `{path}` | {rate:.0f} | {share:.0%} | {verdict} |")
    return "\n".join(lines) + "\n"


def sweep(result: dict) -> str:
    rate = result["claimed"] / result["seconds"] if result["seconds"] else 0
    return "\n".join([
        "", "## Reminder sweep among the seeded deadlines", "",
        f"{result['due']:,} due among {result['deadlines']:,} deadlines (10,000 of the open "
        "ones made due now, in a transaction rolled back afterwards): "
        f"`reminders_claim` claimed {result['claimed']:,} in {result['batches']} batches, "
        f"**{result['seconds']:.1f} s** ({rate:,.0f} a second; the publishing to Redis is "
        "measured by `bench/sweep_bench.py`).", ""])


def others(rows: list, trivial: dict, rows_x2: list, trivial_x2: dict, counts: dict) -> str:
    before = dict(rows)
    lines = ["", "## Cost against others' data: the rows outside the demo users' trials doubled",
             "", f"A copy of the database with every deadline and adverse event of the other "
             f"trials written once more ({counts['reminders_deadline']:,} deadlines, "
             f"{counts['safety_adverseevent']:,} adverse events); the demo users' scopes are "
             f"unchanged. Trivial call p50 {trivial['p50']:.1f} ms, then "
             f"{trivial_x2['p50']:.1f} ms (each ratio is to the trivial call measured alongside "
             f"the row). Budget: the ratio to the trivial call grows by "
             f"at most {GROWTH_BUDGET - 1:.0%}.", "",
             "| page or list | p50 ms | p50 ms, others x2 | x trivial | x trivial, others x2 "
             "| budget |", "|---|---:|---:|---:|---:|---|"]
    for label, grown in rows_x2:
        first = before[label]
        ratio = first["p50"] / first.get("trivial_p50", trivial["p50"])
        ratio_x2 = grown["p50"] / grown.get("trivial_p50", trivial_x2["p50"])
        verdict = "within" if ratio_x2 <= ratio * GROWTH_BUDGET else "**over**"
        lines.append(f"| {label} | {first['p50']:.1f} | {grown['p50']:.1f} | {ratio:.1f} | "
                     f"{ratio_x2:.1f} | {verdict} |")
    return "\n".join(lines) + "\n"

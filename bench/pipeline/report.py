"""The readable summary of one run's figures (the same figures as the JSON of ``--out``)."""

from __future__ import annotations

from typing import Any


def text(f: dict[str, Any]) -> str:
    out = [
        f"machine: {f['machine']}",
        f"raw Kafka hop p50 / p99: {f['raw_hop_ms']['p50']} / {f['raw_hop_ms']['p99']} ms",
        f"unloaded submit → ordered ({f['unloaded_submit_to_ordered_ms']['n']} one at a time) p50 / p99: "
        f"{f['unloaded_submit_to_ordered_ms']['p50']} / {f['unloaded_submit_to_ordered_ms']['p99']} ms",
        f"ratio p50 / ({f['hops_on_path']} hops × raw hop p50): {f['unloaded_ratio_p50_over_hops_x_floor']}",
        f"saturated: {f['requests']} requests, {f['concurrency']} in flight, phase {f['phase_s']} s",
        f"  ordered {f['saturated_throughput_requests_per_s']} requests/s, "
        f"accepted {f['saturated_accepted_requests_per_s']} requests/s",
    ]
    if lat := f["saturated_submit_to_ordered_ms"]:
        out.append(f"  submit → ordered p50 / p99: {lat['p50']} / {lat['p99']} ms")
    out.append(f"  submitted {f['submitted']}, accepted {f['accepted']}, ordered {f['ordered']}, lost {f['lost']}, "
               f"failed by status {f['failed_submissions_by_status'] or '{}'}, "
               f"503 retried after Retry-After {f['retried_after_503']}")
    if f["processes_restarted_during_phase"]:
        out.append(f"  WARNING: restarted or gone during the phase: {', '.join(f['processes_restarted_during_phase'])}")

    out += ["", "CPU per process tree over the saturated phase (/proc utime+stime, reaped children included):",
            f"  {'process':<18}{'ms/request':>11}{'% of a core':>13}{'CPU ms':>10}"]
    for name, row in f["cpu_per_process"].items():
        out.append(f"  {name:<18}{row['ms_per_request']!s:>11}{row['percent_of_one_core']!s:>13}{row['cpu_ms']:>10}")

    fc = f["ferretdb_commands"]
    out += ["", f"FerretDB commands over the phase ({fc['source']}): {fc['commands']}, "
                f"{fc['per_request']} per request"]
    out += [f"  {name:<22}{row['per_request']:>8} /request  ({row['count']})" for name, row in fc["by_command"].items()]
    if fc["failed_by_command"]:
        out.append(f"  failed: {fc['failed_by_command']}")
    if fc["cursors_by_collection"]:
        out.append("  cursors opened, by collection:")
        out += [f"    {name:<44}{row['per_request']:>8} /request" for name, row in
                list(fc["cursors_by_collection"].items())[:12]]

    if profiles := f.get("profiles"):
        out += ["", f"top frames (files in {profiles['dir']}):"]
        for name, s in profiles["services"].items():
            if "error" in s:
                out.append(f"  {name}: {s['error']}")
                continue
            out.append(f"  {name} ({s['samples']} samples), by own time [own % / own+child %]:")
            out += [f"    {r['own_pct']:>5} {r['total_pct']:>5}  {r['function']}" for r in s["by_own"][:5]]
        if fdb := profiles.get("ferretdb"):
            if "error" in fdb:
                out.append(f"  ferretdb: {fdb['error']}")
            else:
                out.append("  ferretdb, by own (flat) time [flat % / cum %]:")
                out += [f"    {r['flat_pct']:>5} {r.get('cum_pct', '')!s:>5}  {r['function']}"
                        for r in fdb["by_flat"][:10]]
    return "\n".join(out)

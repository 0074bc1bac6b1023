#!/usr/bin/env python3
"""Regenerates the measured tables of docs/benchmarks.md from Google Benchmark JSON.

Each bench program NAME whose results/NAME.json exists gets a table between the markers
<!-- bench:NAME@ISA:begin --> and <!-- bench:NAME@ISA:end -->, ISA being the instruction
set the kernels chose (avx2, avx512, neon, ...), so that the doc keeps one table per kind
of CPU that ran it: the median of the repetitions for
every case, and its speed against the baseline a user would pick instead, measured in
the same run (OpenBLAS for the GEMV/GEMM programs, float multiply for shift vs multiply).
Standard library only, so it runs wherever python3 does.
"""
import argparse
import datetime
import json
import os
import pathlib
import platform
import re


def baseline_of(program, name, names=()):
    """The name of the case `name` is compared with, or None for a baseline itself.

    `names` are all cases of the program: shift_vs_multiply's rows are named
    <width>_<type>_<operation>[_<instructions>], and each is compared with the float
    multiply of its width (scalar_float_multiply, w256_float_multiply_vmulps, ...).
    """
    family, _, args = name.partition("/")
    if program == "shift_vs_multiply":
        prefix = family.split("_", 1)[0] + "_float_multiply"
        base = next((n for n in names if n.startswith(prefix)), prefix)
        return None if family == base else base
    blas = {"pot_gemv": "openblas_sgemv", "pot_gemm": "openblas_sgemm", "gemm_float": "openblas_sgemm"}
    if family == blas[program] or family == "read_bandwidth" or family == "parallel_for_overhead":
        return None
    if family == "parallel_for_overhead_pool":
        return f"parallel_for_overhead/{args}"
    return f"{blas[program]}/{args}"


def medians(path):
    data = json.loads(path.read_text())
    rows = {}
    for b in data["benchmarks"]:
        if b.get("aggregate_name") == "median":
            rows[b["run_name"]] = b
    return data["context"], rows


def fmt(value):
    return f"{value:.3g}" if value < 100 else f"{value:.0f}"


def busy_caveat(context):
    """A warning when other work competed for the CPUs (1-minute load above the CPU count)."""
    load = context.get("load_avg", [])
    if load and load[0] > (context.get("num_cpus") or 1):
        return (" (the machine was busy: real times are inflated, CPU-time ratios are the"
                " steadier figure)")
    return ""


def table(program, rows):
    counters = sorted({k for b in rows.values() for k in b
                       if k in ("Gelem", "GFLOP/s", "weight_GBps", "GBps")})
    head = ["case", "real time", "CPU time"] + counters + ["vs baseline (CPU)", "vs baseline (real)"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for name, b in rows.items():
        unit = b["time_unit"]
        # In backticks: Doxygen, which renders this page too, reads "@avx2" as a command.
        cells = [f"`{name.removesuffix('/real_time')}`", f"{fmt(b['real_time'])} {unit}", f"{fmt(b['cpu_time'])} {unit}"]
        cells += [fmt(b[c]) if c in b else "" for c in counters]
        base_name = baseline_of(program, name.removesuffix("/real_time"), rows)
        base = rows.get(base_name + "/real_time") or rows.get(base_name) if base_name else None
        if base is None:
            cells += ["baseline" if base_name is None else "", ""]
        elif "Gelem" in b:  # a rate over the same elements: higher is faster
            cells += [f"{b['Gelem'] / base['Gelem']:.2f}x", ""]
        else:
            cells += [f"{base['cpu_time'] / b['cpu_time']:.2f}x", f"{base['real_time'] / b['real_time']:.2f}x"]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def round_medians(directory):
    """Per program and case, the median real time over the comparison rounds in
    `directory` (PROGRAM-ROUND.json, one repetition per round), and the time unit."""
    times = {}
    for path in sorted(directory.glob("*.json")):
        program = path.stem.rsplit("-", 1)[0]
        for b in json.loads(path.read_text())["benchmarks"]:
            if b.get("run_type") == "aggregate":
                continue
            times.setdefault((program, b["name"]), []).append((b["real_time"], b["time_unit"]))
    result = {}
    for key, values in times.items():
        values.sort()
        result[key] = values[len(values) // 2]
    return result


def default_vs_native(default_dir, native_dir):
    """Rows of the dispatched cases that both builds ran in the alternating rounds: how
    close the default-flags build comes to the -march=native one (> 1: the default build
    is faster), and the spread of the native build's own rounds."""
    default = round_medians(default_dir)
    native = round_medians(native_dir)
    lines = ["| case | default flags | -march=native | default vs native |", "|---|---|---|---|"]
    for (program, name), (native_time, unit) in sorted(native.items()):
        if (program, name) not in default or name.startswith("read_bandwidth"):
            continue
        default_time, _ = default[(program, name)]
        lines.append(f"| {program}: {name.removesuffix('/real_time')} | {fmt(default_time)} {unit}"
                     f" | {fmt(native_time)} {unit} | {native_time / default_time:.2f}x |")
    return lines


def replace_section(doc, name, lines):
    begin, end = f"<!-- bench:{name}:begin -->", f"<!-- bench:{name}:end -->"
    if begin not in doc or end not in doc:
        print(f"update_benchmarks_doc: no markers for {name}; skipped")
        return doc
    return re.sub(re.escape(begin) + ".*?" + re.escape(end), lambda _: begin + "\n".join(lines) + end, doc,
                  flags=re.S)


def cpu_model():
    try:
        for line in pathlib.Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def cpu_isa():
    """The best instruction set pot has kernels for on this CPU, for programs whose
    context does not record the one the kernels chose (shift_vs_multiply)."""
    try:
        flags = set()
        for line in pathlib.Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith(("flags", "Features")):
                flags.update(line.split(":", 1)[1].split())
    except OSError:
        return "portable"
    if {"avx512f", "avx512bw", "avx512dq", "avx512vl", "avx512_vnni"} <= flags:
        return "avx512"
    if {"avx2", "fma"} <= flags:
        return "avx2"
    if "asimddp" in flags:
        return "neon_dotprod"
    return "neon" if "asimd" in flags else "portable"


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--results", required=True, type=pathlib.Path)
    parser.add_argument("--doc", required=True, type=pathlib.Path)
    parser.add_argument("--flags", default="")
    parser.add_argument("--command", default="bench/run.sh")
    parser.add_argument("--compare-results", type=pathlib.Path,
                        help="the default-flags build's comparison rounds (PROGRAM-ROUND.json)")
    parser.add_argument("--native-compare-results", type=pathlib.Path,
                        help="the -march=native build's comparison rounds, compared with --compare-results")
    args = parser.parse_args()
    doc = args.doc.read_text()
    machine_isa = cpu_isa()
    for path in sorted(args.results.glob("*.json")):
        program = path.stem
        context, rows = medians(path)
        load = ", ".join(f"{x:.1f}" for x in context.get("load_avg", []))
        info = [
            "",
            f"Generated by `{args.command.strip()}` on {datetime.date.today().isoformat()}"
            f" ({context.get('date', '')}): CPU `{cpu_model()}`, {context.get('num_cpus')} CPUs"
            f" at {context.get('mhz_per_cpu')} MHz, compiler flags `{args.flags.strip()}`"
            + (f", kernels `{context['pot_isa']}` (CPU supports {context.get('pot_isas_supported', '?')};"
               f" program compiled for {context.get('compiled_for', '?')})" if "pot_isa" in context else "")
            + (f", OpenBLAS core `{context['openblas_core']}`" if "openblas_core" in context else "")
            + (f" (OPENBLAS_CORETYPE={os.environ['OPENBLAS_CORETYPE']})" if os.environ.get("OPENBLAS_CORETYPE") else "")
            + (f". Rows {context['pot_rows']}" if "pot_rows" in context else "")
            + f". Medians of 3 repetitions. Load average at the start: {load}"
            + busy_caveat(context)
            + ". Ratios are speed-ups over the baseline of the same run (> 1: faster).",
            "",
        ] + table(program, rows) + [""]
        machine_isa = context.get("pot_isa", machine_isa)
        doc = replace_section(doc, f"{program}@{machine_isa}", info)
    if args.compare_results and args.native_compare_results:
        rounds = len({path.stem.rsplit("-", 1)[1] for path in args.native_compare_results.glob("*.json")})
        doc = replace_section(doc, f"default_vs_native@{machine_isa}", [
            "", f"Generated by `{args.command.strip()}` on {datetime.date.today().isoformat()}: CPU `{cpu_model()}`;"
            f" the same dispatched cases in the two builds, run alternately ({rounds} rounds, one run of each"
            " program per build and round),"
            " medians over the rounds (> 1: the default build is faster).", ""]
            + default_vs_native(args.compare_results, args.native_compare_results) + [""])
    args.doc.write_text(doc)


if __name__ == "__main__":
    main()

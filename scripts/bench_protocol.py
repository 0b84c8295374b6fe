"""The full BERTopic-paper protocol on BBC (sweeps/bertopic_paper_bbc.yaml): 5 nr_topics × 3 seeds = 15 runs.

Runs the preset's grid study (tracking off, into its own output directory; the embedding cache is
shared with the project's, so a second run costs seconds), then prints our averaged NPMI and TD
beside the paper's Table 2 and an independent reference run, every protocol difference, and
whether we land within two standard deviations of the reference run (exit code 1 if not).

    python scripts/bench_protocol.py [--output-dir outputs/bench_protocol] [--cache-dir outputs/cache]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    """Run the protocol study and print its report; 0 when within 2 sd of the reference run."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output-dir", type=Path, default=PROJECT_ROOT / "outputs" / "bench_protocol")
    parser.add_argument("--cache-dir", type=Path, default=PROJECT_ROOT / "outputs" / "cache")
    parser.add_argument("--compat", action="store_true", help="score with metrics.compat=bertopic_paper")
    args = parser.parse_args()
    os.chdir(PROJECT_ROOT)  # the preset's corpus path is relative to the project root
    sys.path.insert(0, str(PROJECT_ROOT))
    from runner.display import err_console
    from runner.export import load_study
    from runner.protocol import BERTOPIC_PAPER_BBC, protocol_report
    from runner.storage import default_storage_url
    from runner.sweep import Sweep
    from runner.sweep_spec import load_spec

    study = "bertopic_paper_bbc_compat" if args.compat else "bertopic_paper_bbc"
    overrides = ["tracking=none", f"paths.output_dir={args.output_dir}", f"paths.cache_dir={args.cache_dir}",
                 *(["metrics.compat=bertopic_paper"] if args.compat else [])]
    started = time.perf_counter()
    sweep = Sweep(load_spec("bertopic_paper_bbc", {"study": study}), overrides,
                  report=lambda trial: err_console.print(f"trial {trial['number']} {trial['state']} "
                                                         f"{trial['params']} {trial['seconds'] or 0:.1f}s"))
    sweep.run()
    seconds = time.perf_counter() - started
    report = protocol_report(load_study(study, default_storage_url(args.output_dir)), args.output_dir)
    sys.stdout.write(report.markdown)
    reference = BERTOPIC_PAPER_BBC.reference
    npmi_ok = abs(report.npmi.mean - reference.npmi) <= 2 * (reference.npmi_sd or 0)
    td_ok = abs(report.td.mean - reference.td) <= 2 * (reference.td_sd or 0)
    print(f"\n{report.npmi.runs} runs in {seconds:.1f} s; NPMI {report.npmi.mean:.3f} ± {report.npmi.sd:.3f}, "
          f"TD {report.td.mean:.3f} ± {report.td.sd:.3f}; within 2 sd of the reference run: "
          f"NPMI {'yes' if npmi_ok else 'NO'}, TD {'yes' if td_ok else 'NO'}; report in {report.directory}")
    return 0 if npmi_ok and td_ok else 1


if __name__ == "__main__":
    raise SystemExit(main())

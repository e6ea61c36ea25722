"""Smoke test of the built one-folder app (dist/hitdesk): it starts, analyses a file, draws its window.

Runs only the frozen executable, in a scratch home folder (so neither the user's cache, settings
nor log are read or written) and with the source tree kept off its path:

1. ``hitdesk --version`` names the version and the bundled model;
2. ``hitdesk analyze FILE --json --no-cache`` on a corpus file (``--corpus``; a tests/data clip when
   the corpus is absent) gives one result with three segments and probabilities in [0, 1];
3. ``hitdesk gui FILE --screenshot PNG`` with ``QT_QPA_PLATFORM=offscreen`` exits 0 and writes a PNG;
4. ``hitdesk devices --json`` loads the bundled PortAudio (it may find no device);
   ``analyze --model`` with a small model that takes lyrics, on a copy of the file with lyrics beside
   it and without, runs the bundled sentence encoder (the no-lyrics note only for the second);
5. no output or log file holds a traceback or an ERROR/CRITICAL line, and the bundle holds no torch.

Prints the folder and archive sizes and start-up times (median of three runs): ``--version``, and
the app from launch until the headless window is drawn and saved with no files. Exit status 0 when
every check passes. ``make package-test`` runs it after ``make package``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORPUS_CANDIDATES = ("chaos_god-mix.ogg", "forest-sprint.m4a")
FALLBACK_CLIP = ROOT / "tests" / "data" / "chipdisko-12s.ogg"
BAD_WORDS = ("Traceback", " ERROR ", " CRITICAL ", "[PYI-", "Segmentation fault")


class SmokeTestError(Exception):
    pass


def check(condition: bool, message: str) -> None:
    if not condition:
        raise SmokeTestError(message)
    print(f"  ok  {message}")


def folder_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def mib(n: int) -> str:
    return f"{n / 2**20:.0f} MiB"


class Runner:
    def __init__(self, exe: Path, home: Path) -> None:
        self.exe = exe
        self.env = {
            "PATH": "/usr/bin:/bin",
            "HOME": str(home),
            "XDG_CACHE_HOME": str(home / "cache"),
            "XDG_CONFIG_HOME": str(home / "config"),
            "XDG_DATA_HOME": str(home / "data"),
            "XDG_STATE_HOME": str(home / "state"),
            "LANG": os.environ.get("LANG", "C.UTF-8"),
            "QT_QPA_PLATFORM": "offscreen",
        }
        self.outputs: list[str] = []

    def run(self, *args: str, timeout: float = 600) -> tuple[subprocess.CompletedProcess[str], float]:
        start = time.perf_counter()
        proc = subprocess.run(
            [str(self.exe), *args], env=self.env, capture_output=True, text=True, timeout=timeout, check=False
        )
        elapsed = time.perf_counter() - start
        self.outputs.append(f"$ hitdesk {' '.join(args)}\n{proc.stdout}\n{proc.stderr}")
        return proc, elapsed


def pick_input(corpus: Path | None) -> Path:
    if corpus is not None and corpus.is_dir():
        for name in CORPUS_CANDIDATES:
            if (corpus / name).is_file():
                return corpus / name
    return FALLBACK_CLIP


def run_checks(dist: Path, corpus: Path | None) -> dict[str, str]:
    app = dist / "hitdesk"
    exe = app / "hitdesk"
    check(exe.is_file() and os.access(exe, os.X_OK), f"{exe.relative_to(dist.parent)} is an executable")
    internal = app / "_internal"
    check(not (internal / "torch").exists(), "torch is not in the bundle")
    check(not (internal / "hitdesk" / "training").exists(), "the training code is not in the bundle")
    check(any(internal.glob("models/*.onnx")), "the model is in the bundle")
    check(any(internal.glob("models/*.background")), "the explanations' background is in the bundle")
    check((internal / "models" / "taggers" / "musicnn-msd.onnx").is_file(), "the music tagger is in the bundle")
    encoder = [internal / "models" / "encoders" / f"all-minilm-l6-v2{s}" for s in (".onnx", ".json", ".vocab.txt")]
    check(all(p.is_file() for p in encoder), "the lyrics encoder, its card and vocabulary are in the bundle")
    check((internal / "THIRD_PARTY_LICENSES").is_file(), "THIRD_PARTY_LICENSES is in the bundle")
    check(any(internal.glob("libportaudio*")), "the PortAudio library is in the bundle")
    check(any(internal.glob("licenses/*/*")), "the licence texts are in the bundle")
    icons = sorted(internal.glob("resources/icons/hicolor/*/apps/hitdesk.png"))
    check(
        len(icons) >= 6 and (internal / "resources" / "hitdesk.svg").is_file(), f"{len(icons)} icon sizes and the SVG"
    )
    figures: dict[str, str] = {}

    with tempfile.TemporaryDirectory(prefix="hitdesk-smoke-") as tmp:
        home = Path(tmp)
        r = Runner(exe, home)

        proc, _ = r.run("--version")
        import hitdesk  # only for the expected version string, from this source tree

        check(proc.returncode == 0 and f"hitdesk {hitdesk.__version__}" in proc.stdout, "--version names the version")
        check("model hitdesk-zalo-v2" in proc.stdout, "--version names the bundled model")
        times = [r.run("--version")[1] for _ in range(3)]
        figures["start-up, hitdesk --version (median of 3)"] = f"{statistics.median(times):.2f} s"

        audio = pick_input(corpus)
        proc, elapsed = r.run("analyze", str(audio), "--json", "--no-cache")
        check(proc.returncode == 0, f"analyze {audio.name} exits 0 (stderr: {proc.stderr.strip()[:300]})")
        results = json.loads(proc.stdout)
        check(isinstance(results, list) and len(results) == 1, "analyze --json prints one result")
        res = results[0]
        check(res.get("error") is None, f"the result has no error ({res.get('error')})")
        check([s["name"] for s in res["segments"]] == ["beginning", "middle", "end"], "three segments")
        probs = [res["overall"]["p_hit"]] + [s["p_hit"] for s in res["segments"]]
        check(all(0.0 <= p <= 1.0 for p in probs), f"probabilities in [0, 1] (overall {probs[0]:.3f})")
        check(res["model"]["name"] == "hitdesk-zalo-v2", "scored by the bundled model")
        figures[f"analyze {audio.name} ({res['duration_s']:.0f} s of audio), whole command"] = f"{elapsed:.2f} s"
        proc, elapsed = r.run("analyze", str(audio), "--json", "--no-cache", "--style")
        check(proc.returncode == 0, f"analyze --style exits 0 (stderr: {proc.stderr.strip()[:300]})")
        style = json.loads(proc.stdout)[0].get("style") or []
        check(len(style) >= 5, f"analyze --style names the tags ({', '.join(t['tag'] for t in style[:3])})")
        figures[f"analyze --style {audio.name}, whole command"] = f"{elapsed:.2f} s"

        shot = home / "shot.png"
        proc, elapsed = r.run("gui", str(audio), "--screenshot", str(shot))
        check(proc.returncode == 0, f"gui --screenshot exits 0 (stderr: {proc.stderr.strip()[:300]})")
        check(shot.is_file() and shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", "the screenshot is a PNG")
        check(shot.stat().st_size > 20_000, f"the screenshot is not empty ({shot.stat().st_size} bytes)")
        figures[f"app: open, analyse {audio.name}, screenshot, quit"] = f"{elapsed:.2f} s"
        times = []
        for i in range(3):
            empty = home / f"empty-{i}.png"
            proc, elapsed = r.run("gui", "--screenshot", str(empty))
            check(proc.returncode == 0 and empty.is_file(), f"empty window drawn headless (run {i + 1})")
            times.append(elapsed)
        figures["start-up, app launch to window drawn and saved (median of 3)"] = f"{statistics.median(times):.2f} s"

        lyrics_checks(r, home, audio, figures)

        proc, _ = r.run("devices", "--json", timeout=60)
        check("PortAudio library" not in proc.stderr, "devices: the bundled PortAudio loads")

        logs = sorted(home.rglob("*.log"))
        check(bool(logs), f"the app wrote its log ({', '.join(str(p.relative_to(home)) for p in logs)})")
        texts = [p.read_text(encoding="utf-8", errors="replace") for p in logs] + r.outputs
        bad = [line for text in texts for line in text.splitlines() if any(w in line for w in BAD_WORDS)]
        check(not bad, "no traceback or error in the log and output" + (f": {bad[:5]}" if bad else ""))
        shot_copy = dist / "smoke-screenshot.png"
        shot_copy.write_bytes(shot.read_bytes())
        print(f"  screenshot kept at {shot_copy}")

    figures["folder dist/hitdesk"] = mib(folder_size(app))
    archives = sorted(dist.glob(f"hitdesk-{hitdesk.__version__}-*.tar.gz"))
    if archives:
        figures[f"archive {archives[-1].name}"] = mib(archives[-1].stat().st_size)
    return figures


def lyrics_model(folder: Path) -> Path:
    """A model with a lyrics input (p_hit = sigmoid(sum(lyrics)); a known function) and its card."""
    import onnx
    from onnx import TensorProto, helper

    f = TensorProto.FLOAT
    nodes = [
        helper.make_node("ReduceSum", ["lyrics"], ["s"], keepdims=0),
        helper.make_node("ReduceMean", ["logmel"], ["m"], axes=[1, 2], keepdims=0),
        helper.make_node("Mul", ["m", "zero"], ["m0"]),
        helper.make_node("Add", ["s", "m0"], ["z"]),
        helper.make_node("Sigmoid", ["z"], ["p_hit"]),
        helper.make_node("Identity", ["p_hit"], ["p_hit_low"]),
        helper.make_node("Identity", ["p_hit"], ["p_hit_high"]),
    ]
    ins = [helper.make_tensor_value_info("logmel", f, ["batch", 128, "time"])]
    ins.append(helper.make_tensor_value_info("lyrics", f, ["batch", 384]))
    outs = [helper.make_tensor_value_info(o, f, ["batch"]) for o in ("p_hit", "p_hit_low", "p_hit_high")]
    zero = helper.make_tensor("zero", f, [], [0.0])
    model = helper.make_model(helper.make_graph(nodes, "lyrics-smoke", ins, outs, initializer=[zero]))
    model.opset_import[0].version = 13
    model.ir_version = 8
    base = json.loads((ROOT / "models" / "hitdesk-zalo-v2.json").read_text(encoding="utf-8"))
    card = {k: base[k] for k in ("feature_config", "stat_columns")}
    card |= {"name": "lyrics-smoke", "version": "1", "label": {"definition": "smoke test", "base_rate": 0.5}}
    card["runtime"] = {"inputs": ["logmel", "lyrics"], "overall": "mean"}
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "lyrics-smoke.json").write_text(json.dumps(card), encoding="utf-8")
    onnx.save_model(model, str(folder / "lyrics-smoke.onnx"))
    return folder / "lyrics-smoke.onnx"


def lyrics_checks(r: Runner, home: Path, audio: Path, figures: dict[str, str]) -> None:
    model = lyrics_model(home / "lyrics-model")
    takes = home / "takes"
    takes.mkdir()
    with_words, without = takes / f"sung{audio.suffix}", takes / f"plain{audio.suffix}"
    for copy in (with_words, without):
        copy.write_bytes(audio.read_bytes())
    with_words.with_suffix(".lrc").write_text("[00:01.00]Sailing on the ocean under a silver moon\n", encoding="utf-8")
    proc, elapsed = r.run("analyze", "--model", str(model), "--json", "--no-cache", str(with_words), str(without))
    check(proc.returncode == 0, f"analyze with a lyrics model exits 0 (stderr: {proc.stderr.strip()[:300]})")
    rows = json.loads(proc.stdout)
    said = [any("takes lyrics" in n for n in row["notes"]) for row in rows]
    check(all(row["error"] is None for row in rows) and said == [False, True], "lyrics beside a take are embedded")
    figures["analyze two copies with a lyrics model (encoder load + embedding), whole command"] = f"{elapsed:.2f} s"


def main() -> int:
    parser = argparse.ArgumentParser(description="Smoke test of the built app in dist/hitdesk.")
    parser.add_argument("--dist", type=Path, default=ROOT / "dist")
    parser.add_argument("--corpus", type=Path, default=ROOT.parent / "shared" / "corpus")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    print(f"Smoke test of {args.dist / 'hitdesk'}")
    try:
        figures = run_checks(args.dist, args.corpus)
    except (SmokeTestError, subprocess.TimeoutExpired, json.JSONDecodeError, KeyError) as exc:
        print(f"FAILED: {exc}", file=sys.stderr)
        return 1
    print("Figures:")
    for name, value in figures.items():
        print(f"  {name}: {value}")
    print("smoke test passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())

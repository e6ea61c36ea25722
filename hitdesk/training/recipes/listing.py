"""``hitdesk-train recipes``: every recipe's name with one line on what it trains."""

from __future__ import annotations

from hitdesk.training.recipes import RECIPE_NAMES, ZALO_STATS, manifest_recipes

ZALO_STATS_SUMMARY = (
    "the default model: an MLP ensemble on the chart data's 42 per-song statistics, trained on "
    "window-shifted copies too (--data, not --manifest)"
)


def recipe_lines() -> list[dict[str, str]]:
    """``{"name", "description"}`` of every recipe, in the registry's order."""
    recipes = manifest_recipes()
    return [
        {"name": name, "description": ZALO_STATS_SUMMARY if name == ZALO_STATS else recipes[name].summary}
        for name in RECIPE_NAMES
    ]

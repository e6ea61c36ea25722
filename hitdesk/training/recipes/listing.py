"""``hitdesk-train recipes``: every recipe's name with one line on what it trains."""

from __future__ import annotations

from hitdesk.training.recipes import RECIPE_NAMES, ZALO_STATS, manifest_recipes
from hitdesk.training.recipes.zalo_stats import SUMMARY

ZALO_STATS_SUMMARY = f"the default model: {SUMMARY} (--data, not --manifest)"


def recipe_lines() -> list[dict[str, str]]:
    """``{"name", "description"}`` of every recipe, in the registry's order."""
    recipes = manifest_recipes()
    return [
        {"name": name, "description": ZALO_STATS_SUMMARY if name == ZALO_STATS else recipes[name].summary}
        for name in RECIPE_NAMES
    ]

"""The catalogue's names: stock codes and descriptions of the generated products, in the real file's style
(a five-digit number, sometimes a letter; COLOUR THEME NOUN in capitals)."""

from __future__ import annotations

import numpy as np

COLOURS = (
    "WHITE",
    "RED",
    "PINK",
    "BLUE",
    "GREEN",
    "IVORY",
    "CREAM",
    "BLACK",
    "SILVER",
    "GOLD",
    "PURPLE",
    "ORANGE",
    "YELLOW",
    "PASTEL",
    "VINTAGE",
    "RETRO",
)
THEMES = (
    "HANGING HEART",
    "POLKADOT",
    "REGENCY",
    "SPACEBOY",
    "DOLLY GIRL",
    "CIRCUS PARADE",
    "UNION FLAG",
    "PAISLEY PARK",
    "WOODLAND",
    "SKULLS",
    "BIRDIE",
    "CHRISTMAS",
    "STRAWBERRY",
    "ROSE",
    "DAISY",
    "LOVE",
    "HEART OF WICKER",
    "GINGHAM",
    "SCANDINAVIAN",
    "ENGLISH ROSE",
    "JAM MAKING",
    "DOILY",
    "BAROQUE",
    "APOTHECARY",
)
NOUNS = (
    "T-LIGHT HOLDER",
    "METAL LANTERN",
    "COAT HANGER",
    "HOT WATER BOTTLE",
    "CAKE STAND",
    "TEA CUP AND SAUCER",
    "LUNCH BAG",
    "JUMBO BAG",
    "MUG",
    "CANDLE",
    "PHOTO FRAME",
    "CLOCK",
    "NOTEBOOK",
    "WRAP",
    "BUNTING",
    "CUSHION COVER",
    "DOORMAT",
    "STORAGE JAR",
    "TRINKET BOX",
    "PARASOL",
    "PAPER NAPKINS",
    "CAKE CASES",
    "CHOPPING BOARD",
    "LUGGAGE TAG",
    "PURSE",
    "WALL ART",
    "SIGN",
    "PLATE",
    "BOWL",
    "JUG",
    "MIRROR",
    "GARLAND",
    "BELL",
    "KEY RING",
    "ALARM CLOCK",
    "SHOPPING BAG",
    "HAND WARMER",
    "PENCILS",
    "STICKER SHEET",
    "BIRD ORNAMENT",
    "DRAWER KNOB",
    "TISSUES",
    "PARTY BAG",
    "BAKING SET",
    "TEA TOWEL",
    "APRON",
    "BOTTLE",
    "FRIDGE MAGNETS",
    "PICNIC BASKET",
    "WATERING CAN",
    "PLACEMATS",
    "COASTER",
    "SPOTTY BUNTING",
    "GIFT TAPE",
    "JIGSAW",
    "PAINT SET",
    "PLAYING CARDS",
    "CHALKBOARD",
    "DOOR STOP",
    "SOAP DISH",
)


def stock_codes(rng: np.random.Generator, n: int) -> np.ndarray:
    """`n` distinct stock codes (object array of str): a number in 10002-90214, three in ten with a letter."""
    base_numbers = rng.choice(np.arange(10_002, 90_215), size=n, replace=False)
    letters = np.array(list("ABCDEFGHJKLMNPRSTW"))
    suffix = np.where(rng.random(n) < 0.3, rng.choice(letters, n), "")
    return np.array([f"{b}{s}" for b, s in zip(base_numbers, suffix, strict=True)], dtype=object)


def descriptions(rng: np.random.Generator, n: int) -> np.ndarray:
    """`n` distinct descriptions (object array of str), one of each COLOURS x THEMES x NOUNS combination at most."""
    names = rng.choice(len(COLOURS) * len(THEMES) * len(NOUNS), size=n, replace=False)
    c, rest = np.divmod(names, len(THEMES) * len(NOUNS))
    t, o = np.divmod(rest, len(NOUNS))
    return np.array([f"{COLOURS[i]} {THEMES[j]} {NOUNS[k]}" for i, j, k in zip(c, t, o, strict=True)], dtype=object)

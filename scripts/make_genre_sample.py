"""Write the book's synthetic movie-genre sample, ``explain_utils/tasks/samples/movie_genres.jsonl``.

    python scripts/make_genre_sample.py            # rewrites the sample (deterministic)

SYNTHETIC: not Ballout et al.'s movie-genre set (which this book cannot download), only its
shape: an input, an explanation at three levels and a one-word label. Each input is a plot-like
run of words in which a few *cue words* point at genres (``ghost`` at horror, ``robot`` at
scifi, ...) among neutral words. The label is the genre with the most cues; every input has cues
of two or three genres and the winner leads the runner-up by one cue, so the answer needs the
cues to be recognised *and counted*: the first cue's genre, or any single cue, is often wrong.
The explanations spell out what the answer needs:

- ``explanation_short``: the count per genre, e.g. ``horror 3 comedy 2``;
- ``explanation_medium``: the cues grouped by genre with their counts;
- ``explanation_long``: one sentence per cue in reading order, then the comparison.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

OUT = (
    Path(__file__).resolve().parents[1]
    / "explain_utils"
    / "tasks"
    / "samples"
    / "movie_genres.jsonl"
)
ROWS = 600
SEED = 2024

CUES: dict[str, tuple[str, ...]] = {
    "comedy": ("joke", "prank", "clown", "sitcom", "banter", "parody", "slapstick", "giggle"),
    "horror": ("ghost", "scream", "zombie", "curse", "demon", "crypt", "haunted", "coffin"),
    "romance": ("kiss", "wedding", "lover", "flirt", "proposal", "sweetheart", "rose", "valentine"),
    "scifi": ("robot", "spaceship", "alien", "laser", "android", "galaxy", "cyborg", "teleporter"),
    "thriller": (
        "spy",
        "heist",
        "hostage",
        "detective",
        "bomb",
        "kidnapper",
        "conspiracy",
        "agent",
    ),
}
PEOPLE = (
    "a teacher",
    "an old farmer",
    "two sisters",
    "a young nurse",
    "the mayor",
    "a boxer",
    "a retired pilot",
    "a shy student",
    "the new neighbour",
    "a taxi driver",
)
PLACES = (
    "in a small town",
    "near the harbour",
    "in a mountain village",
    "on a night train",
    "in a crowded city",
    "at a summer camp",
    "in an empty hotel",
    "on a remote island",
)
LINKS = (
    "meets",
    "finds",
    "follows",
    "hides from",
    "talks about",
    "dreams of",
    "waits for",
    "remembers",
)
FILLERS = (
    "a letter",
    "the river",
    "a bicycle",
    "an umbrella",
    "the market",
    "a dog",
    "the weather",
    "a birthday",
    "an old car",
    "the bakery",
    "a suitcase",
    "the garden",
)


def _counts(rng: random.Random) -> dict[str, int]:
    """Cue counts of two or three genres; the first leads the next by exactly one."""
    genres = rng.sample(sorted(CUES), rng.choice((2, 2, 3)))
    top = rng.randint(2, 3)
    counts = {genres[0]: top, genres[1]: top - 1}
    if len(genres) == 3:
        counts[genres[2]] = rng.randint(1, top - 1)
    return counts


def _row(rng: random.Random) -> dict[str, str]:
    counts = _counts(rng)
    cues = [(genre, rng.choice(CUES[genre])) for genre, n in counts.items() for _ in range(n)]
    rng.shuffle(cues)
    parts = [f"{rng.choice(PEOPLE)} {rng.choice(PLACES)}"]
    for _, cue in cues:
        if rng.random() < 0.3:
            parts.append(f"{rng.choice(LINKS)} {rng.choice(FILLERS)}")
        parts.append(f"{rng.choice(LINKS)} the {cue}")
    label = max(counts, key=counts.get)
    ranked = sorted(counts, key=lambda g: (-counts[g], g))
    by_genre = {g: [c for gg, c in cues if gg == g] for g in ranked}
    long_steps = [f"{cue} is a {genre} cue" for genre, cue in cues]
    tally = " and ".join(f"{g} has {counts[g]}" for g in ranked)
    return {
        "input": " , ".join(parts),
        "explanation_short": " ".join(f"{g} {counts[g]}" for g in ranked),
        "explanation_medium": " ; ".join(
            f"{' '.join(by_genre[g])} : {g} {counts[g]}" for g in ranked
        ),
        "explanation_long": " ; ".join([*long_steps, f"{tally} , so {label} has the most cues"]),
        "label": label,
    }


def main() -> None:
    rng = random.Random(SEED)
    rows, seen = [], set()
    while len(rows) < ROWS:
        row = _row(rng)
        if row["input"] not in seen:  # the loader refuses duplicate inputs
            seen.add(row["input"])
            rows.append(row)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    print(f"wrote {len(rows)} rows to {OUT}")


if __name__ == "__main__":
    main()

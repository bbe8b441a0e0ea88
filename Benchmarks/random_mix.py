"""A search mix nobody wrote by hand: drawn at random from a catalog's own words and values.

queries.txt and queries-broad.txt were written by people who knew the engine. This draws a fresh
mix from the corpus instead (every run with another --seed is a mix the engine was not tuned on):
words from every frequency band (in most products, in some, in a handful, in none), one to four of
them, the last often cut to a prefix as a visitor types it; filters on category, kind, seller,
price, rating and free, alone and stacked; every sort; page sizes from 10 to 100; browsing without
text. One GET /api/v1/products query string per line, as the other mixes.

    python random_mix.py --db souk-data/souk.db --seed 7 --count 300 > /tmp/mix-7.txt
"""
import argparse
import json
import random
import re
import sqlite3
import urllib.parse
from collections import Counter

SORTS = ["relevance", "newest", "price_asc", "price_desc", "rating", "popular"]
LIMITS = [None, None, 10, 24, 50, 100, 100]


def words(text: str):
    return [w.lower() for w in re.findall(r"[^\W_]+", text or "") if len(w) > 1]


def vocabulary(db, sample: int, rng: random.Random):
    """Document frequency of each word in a random sample of listed products."""
    total = db.execute("SELECT max(rowid) FROM products").fetchone()[0] or 0
    picks = sorted(rng.sample(range(1, total + 1), min(sample, total)))
    frequency = Counter()
    seen = 0
    for start in range(0, len(picks), 500):
        chunk = picks[start:start + 500]
        marks = ",".join("?" * len(chunk))
        for title, summary, description, tags in db.execute(
            f"SELECT title, summary, description, tags FROM products WHERE rowid IN ({marks})", chunk
        ):
            seen += 1
            frequency.update(set(words(" ".join([title, summary or "", description or "", " ".join(json.loads(tags or "[]"))]))))
    bands = {"common": [], "medium": [], "rare": []}
    for word, count in frequency.items():
        share = count / max(seen, 1)
        bands["common" if share >= 0.25 else "medium" if share >= 0.01 else "rare"].append(word)
    for band in bands.values():
        band.sort()
    return bands


def text_part(rng: random.Random, bands):
    shape = rng.random()
    if shape < 0.08:  # a word no product has (a typo, another language)
        return rng.choice(bands["rare"] + bands["medium"])[::-1] + "x"
    count = rng.choice([1, 1, 2, 2, 2, 3, 4])
    picked = []
    for _ in range(count):
        band = rng.choices(["common", "medium", "rare"], weights=[4, 4, 2])[0]
        if bands[band]:
            picked.append(rng.choice(bands[band]))
    if not picked:
        return ""
    if rng.random() < 0.35 and len(picked[-1]) > 2:  # typed as far as a prefix
        picked[-1] = picked[-1][: rng.randint(2, min(5, len(picked[-1])))]
    return " ".join(picked)


def filters(rng: random.Random, categories, kinds, sellers, heavy: bool):
    params = {}
    chance = 0.6 if heavy else 0.2
    if rng.random() < chance:
        params["category"] = rng.choice(categories)
    if rng.random() < chance:
        params["kind"] = rng.choice(kinds)
    if rng.random() < chance * 0.6:
        params["seller"] = rng.choice(sellers)
    roll = rng.random()
    if roll < chance * 0.2:
        params["free"] = "true"
    elif roll < chance:
        low = rng.choice([0, 100, 500, 1000, 2500, 5000])
        if rng.random() < 0.5:
            params["min_price"] = str(low)
        if rng.random() < 0.7:
            params["max_price"] = str(low + rng.choice([400, 1000, 2500, 10000]))
    if rng.random() < chance * 0.7:
        params["min_rating"] = rng.choice(["1", "2.5", "3", "3.5", "4", "4.5", "4.8"])
    return params


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", required=True)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--count", type=int, default=300)
    parser.add_argument("--sample", type=int, default=5000, help="products read to learn the words")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    db = sqlite3.connect(f"file:{args.db}?mode=ro", uri=True)
    bands = vocabulary(db, args.sample, rng)
    categories = [c for (c,) in db.execute("SELECT DISTINCT category FROM products ORDER BY 1")]
    kinds = [k for (k,) in db.execute("SELECT DISTINCT kind FROM products ORDER BY 1")]
    sellers = [s for (s,) in db.execute("SELECT id FROM users WHERE role IN ('seller', 'admin') ORDER BY 1")]
    print(f"# random_mix.py --seed {args.seed} --count {args.count}: words common {len(bands['common'])}, "
          f"medium {len(bands['medium'])}, rare {len(bands['rare'])}")
    for _ in range(args.count):
        params = {}
        browsing = rng.random() < 0.15
        if not browsing:
            text = text_part(rng, bands)
            if text:
                params["q"] = text
        params.update(filters(rng, categories, kinds, sellers, heavy=browsing or rng.random() < 0.3))
        sort = rng.choice(SORTS + [None, None])
        if sort and (sort != "relevance" or "q" in params):
            params["sort"] = sort
        limit = rng.choice(LIMITS)
        if limit:
            params["limit"] = str(limit)
        print(urllib.parse.urlencode(params))


if __name__ == "__main__":
    main()

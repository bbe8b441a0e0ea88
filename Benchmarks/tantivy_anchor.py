"""The anchor: the same corpus and query mix through tantivy (a Lucene-class engine, from PyPI).

Reads the listed products straight from a Souk data folder's souk.db, indexes them with the same
fields and weights Souk's FTS5 index uses, then replays queries.txt for a while and prints
queries/s, p50 and p99 (each query's `limit`, else 24; one searcher thread, as
`souk bench search --concurrency 1`).

    python tantivy_anchor.py --db souk-data/souk.db --queries queries.txt --seconds 10 [--facets]
"""
import argparse
import json
import re
import sqlite3
import tempfile
import time
import urllib.parse

import tantivy

WEIGHTS = {"title": 10.0, "summary": 4.0, "description": 1.0, "tags": 3.0, "category_text": 2.0, "seller_name": 2.0}
LISTED = (
    "p.status = 'published' AND u.disabled = 0 AND "
    "(u.role = 'admin' OR (u.role = 'seller' AND u.seller_status = 'verified'))"
)


def build_index(db_path: str):
    builder = tantivy.SchemaBuilder()
    for field in WEIGHTS:
        builder.add_text_field(field, stored=False)
    builder.add_text_field("id", stored=True, tokenizer_name="raw")
    builder.add_text_field("category", stored=False, tokenizer_name="raw", fast=True)
    builder.add_text_field("kind", stored=False, tokenizer_name="raw")
    builder.add_text_field("seller", stored=False, tokenizer_name="raw")
    builder.add_integer_field("price", fast=True, indexed=True)
    builder.add_float_field("rating", fast=True, indexed=True)
    builder.add_integer_field("sales", fast=True, indexed=True)
    builder.add_integer_field("published", fast=True, indexed=True)
    schema = builder.build()
    index = tantivy.Index(schema, path=tempfile.mkdtemp(prefix="tantivy-"))
    writer = index.writer(heap_size=500_000_000)
    db = sqlite3.connect(db_path)
    count = 0
    for row in db.execute(
        f"""SELECT p.id, p.title, p.summary, p.description, p.tags, p.category, p.kind,
                   COALESCE(p.min_price, p.price), p.rating_avg, p.sales_count,
                   CAST(strftime('%s', p.published_at) AS INTEGER), u.name, p.seller_id
            FROM products p JOIN users u ON u.id = p.seller_id WHERE {LISTED}"""
    ):
        pid, title, summary, description, tags, category, kind, price, rating, sales, published, seller, seller_id = row
        writer.add_document(
            tantivy.Document(
                id=pid, title=title, summary=summary, description=description,
                tags=" ".join(json.loads(tags)), category_text=category, category=category, kind=kind,
                price=int(price), rating=float(rating), sales=int(sales), published=int(published or 0),
                seller_name=seller, seller=seller_id,
            )
        )
        count += 1
    writer.commit()
    writer.wait_merging_threads()
    index.reload()
    return index, schema, count


def words(text: str):
    return [w.lower() for w in re.findall(r"[^\W_]+", text)][:8]


def to_query(schema, params: dict):
    """Souk's semantics: every word required, in any field, the last one as a prefix (2+ letters)."""
    clauses = []
    text = params.get("q", "")
    tokens = words(text)
    ends_with_word = bool(text) and text[-1].isalnum()
    for position, token in enumerate(tokens):
        is_prefix = position == len(tokens) - 1 and ends_with_word and len(token) >= 2
        per_field = []
        for field, weight in WEIGHTS.items():
            term = (
                tantivy.Query.regex_query(schema, field, re.escape(token) + ".*")
                if is_prefix
                else tantivy.Query.term_query(schema, field, token)
            )
            per_field.append((tantivy.Occur.Should, tantivy.Query.boost_query(term, weight)))
        clauses.append((tantivy.Occur.Must, tantivy.Query.boolean_query(per_field)))
    if "category" in params:
        clauses.append((tantivy.Occur.Must, tantivy.Query.term_query(schema, "category", params["category"])))
    if "kind" in params:
        clauses.append((tantivy.Occur.Must, tantivy.Query.term_query(schema, "kind", params["kind"])))
    if "seller" in params:
        clauses.append((tantivy.Occur.Must, tantivy.Query.term_query(schema, "seller", params["seller"])))
    low = int(params.get("min_price", 0))
    high = int(params.get("max_price", 10**12))
    if params.get("free") == "true":
        low, high = 0, 0
    if "min_price" in params or "max_price" in params or "free" in params:
        clauses.append((tantivy.Occur.Must, tantivy.Query.range_query(schema, "price", tantivy.FieldType.Integer, low, high)))
    if "min_rating" in params:
        clauses.append((tantivy.Occur.Must, tantivy.Query.range_query(
            schema, "rating", tantivy.FieldType.Float, float(params["min_rating"]), 5.0)))
    if not clauses:
        return tantivy.Query.all_query()
    return tantivy.Query.boolean_query(clauses)


SORTS = {
    "newest": ("published", tantivy.Order.Desc), "price_asc": ("price", tantivy.Order.Asc),
    "price_desc": ("price", tantivy.Order.Desc), "rating": ("rating", tantivy.Order.Desc),
    "popular": ("sales", tantivy.Order.Desc),
}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", required=True)
    parser.add_argument("--queries", required=True)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--facets", action="store_true", help="also count matches per category")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    started = time.time()
    index, schema, count = build_index(args.db)
    build_seconds = time.time() - started
    searcher = index.searcher()
    lines = [l.strip() for l in open(args.queries) if l.strip() and not l.startswith("#")]
    mix = []
    for line in lines:
        params = dict(urllib.parse.parse_qsl(line))
        sort = params.get("sort") or ("relevance" if params.get("q") else "newest")
        mix.append((to_query(schema, params), SORTS.get(sort), int(params.get("limit", 24))))

    def run(query, sort, limit):
        if sort:
            searcher.search(query, limit, order_by_field=sort[0], order=sort[1])
        else:
            searcher.search(query, limit)
        if args.facets:
            searcher.aggregate(query, {"c": {"terms": {"field": "category", "size": 100}}})

    for query, sort, limit in mix:  # warm up
        run(query, sort, limit)
    latencies = []
    deadline = time.perf_counter() + args.seconds
    i = 0
    while time.perf_counter() < deadline:
        query, sort, limit = mix[i % len(mix)]
        start = time.perf_counter()
        run(query, sort, limit)
        latencies.append((time.perf_counter() - start) * 1000)
        i += 1
    latencies.sort()
    n = len(latencies)
    result = {
        "engine": "tantivy", "products": count, "queries": n, "qps": int(n / args.seconds),
        "p50_ms": round(latencies[n // 2], 3), "p99_ms": round(latencies[min(n - 1, int(n * 0.99))], 3),
        "facets": args.facets, "index_build_s": round(build_seconds, 1),
    }
    if args.json:
        print(json.dumps(result))
    else:
        print(f"tantivy: {count} products, {n} queries, {result['qps']} q/s, p50 {result['p50_ms']} ms, "
              f"p99 {result['p99_ms']} ms (facets {'on' if args.facets else 'off'}; index built in {build_seconds:.1f} s)")


if __name__ == "__main__":
    main()

"""Directory search benchmark: synthetic directories of 1,000 / 10,000 / 100,000 entries over
the real gazetteer, 1,000 mixed queries each; index build time, p50/p95/p99 latency and peak
memory, and the same for a naive baseline (rapidfuzz `process.extract` with `token_set_ratio`
over one concatenated string per entry) measured in the same run.

    .venv/bin/python -m benchmarks.directory_search [--sizes 1000,10000,100000] [--seed 7]

Each size runs in its own process so that its peak memory (ru_maxrss) is its own. The
baseline is slow by design (linear in the directory), so at 100,000 entries it is timed on a
sample of the queries (printed) to keep the whole run under about two minutes."""
from __future__ import annotations

import argparse
import gc
import json
import os
import random
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.directory.gazetteer import Gazetteer  # noqa: E402
from bot.directory.index import DirectoryIndex  # noqa: E402
from bot.directory.records import EntryRecord  # noqa: E402
from bot.directory.vocabulary import Vocabulary  # noqa: E402

QUERIES = 1000
BASELINE_QUERIES = {1000: 1000, 10000: 300, 100000: 60}
SYLLABLES = ["ka", "lo", "mi", "ra", "ve", "to", "sa", "ni", "de", "bo", "lu", "fe", "ri",
             "ta", "no", "ze", "pa", "vi", "go", "le", "ma", "ro", "si", "du"]
KINDS = ["ASBL", "VZW", "VoG", "Maison", "Huis", "Centre", "Dienst", "Service", "Collectif",
         "Netwerk", "Réseau", "Point"]
OFF_TOPIC = ["quel temps fera-t-il demain ?", "best pizza delivery near me",
             "voetbaluitslagen van gisteren", "Wie spät ist es?", "hello there"]
SENTENCES = {
    "fr": "je cherche de l'aide pour {topic} à {place}",
    "nl": "wie helpt met {topic} in {place}?",
    "de": "Wo finde ich {topic} in {place}?",
    "en": "who handles {topic} in {place}?",
    "uk": "де {topic} {place}",
}


def synthetic_name(rng: random.Random) -> str:
    return "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4))).capitalize()


def build_directory(size: int, gaz: Gazetteer, vocab: Vocabulary, rng: random.Random):
    municipalities = gaz.municipality_codes()
    arrondissements = sorted(c for c, a in gaz.areas.items() if a.level == "arrondissement")
    provinces = sorted(c for c, a in gaz.areas.items() if a.level == "province")
    wide = ["02000", "03000", "04000", "DG", "FWB", "VG"]
    topics = sorted(vocab.topic_codes)
    words_by_topic: dict[str, list[str]] = {}
    for key, terms in vocab.phrases.items():
        for term in terms:
            words_by_topic.setdefault(term.topic, []).append(key)
    brands = [synthetic_name(rng) for _ in range(max(50, size // 20))]
    records = []
    for number in range(size):
        roll = rng.random()
        if roll < 0.70:
            coverage = (rng.choice(municipalities),)
        elif roll < 0.80:
            coverage = (rng.choice(arrondissements),)
        elif roll < 0.88:
            coverage = (rng.choice(provinces),)
        elif roll < 0.97:
            coverage = (rng.choice(wide),) + (("-DG",) if rng.random() < 0.2 else ())
        else:
            coverage = ("BE",)
        area = gaz.area(gaz.canonical(coverage[0]))
        entry_topics = tuple(rng.sample(topics, rng.randint(1, 3)))
        brand = rng.choice(brands)
        name = f"{rng.choice(KINDS)} {brand} {area.name(rng.choice(['fr', 'nl']))}"
        keywords = tuple(rng.choice(words_by_topic[t]) for t in entry_topics)
        records.append(EntryRecord(
            id=f"syn-{number}", organisation=name, topics=entry_topics, coverage=coverage,
            acronym=brand.upper()[:5] if rng.random() < 0.2 else "",
            service=f"{' / '.join(vocab.label(t, 'fr') for t in entry_topics)} ({brand})",
            keywords=keywords, languages=tuple(rng.sample(["fr", "nl", "de", "en", "uk"],
                                                          rng.randint(1, 3)))))
    return records


def build_queries(records, gaz: Gazetteer, vocab: Vocabulary, rng: random.Random) -> list[str]:
    place_names = sorted(k for k in gaz.names if not k.isdigit())
    postal = sorted(gaz.postal_codes)
    terms: dict[str, list[str]] = {}
    for key, meanings in vocab.phrases.items():
        for meaning in meanings:
            terms.setdefault(meaning.lang, []).append(key)
    queries = []
    for _ in range(QUERIES):
        roll = rng.random()
        lang = rng.choice(["fr", "nl", "de", "en", "uk"])
        topic = rng.choice(terms[lang])
        place = rng.choice(postal) if rng.random() < 0.2 else rng.choice(place_names)
        if roll < 0.45:
            query = f"{topic} {place}"
        elif roll < 0.60:
            query = SENTENCES[lang].format(topic=topic, place=place)
        elif roll < 0.72:  # a typo in the place
            if len(place) > 5:
                cut = rng.randrange(1, len(place) - 1)
                place = place[:cut] + place[cut + 1:]
            query = f"{topic} {place}"
        elif roll < 0.82:
            query = topic
        elif roll < 0.95:
            query = rng.choice(records).organisation
        else:
            query = rng.choice(OFF_TOPIC)
        queries.append(query)
    return queries


def percentiles(samples: list[float]) -> tuple[float, float, float]:
    ordered = sorted(samples)
    pick = lambda p: ordered[min(len(ordered) - 1, int(round(p * (len(ordered) - 1))))]  # noqa
    return pick(0.50), pick(0.95), pick(0.99)


def run_size(size: int, seed: int) -> dict:
    from rapidfuzz import fuzz, process

    rng = random.Random(seed + size)
    gaz = Gazetteer.load(ROOT / "data")
    vocab = Vocabulary.load(ROOT / "data")
    DirectoryIndex([], gaz, vocab)  # the gazetteer/vocabulary tables, shared by every rebuild
    records = build_directory(size, gaz, vocab, rng)
    queries = build_queries(records, gaz, vocab, rng)
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start, start_cpu = time.perf_counter(), time.thread_time()
    index = DirectoryIndex(records, gaz, vocab)
    build = time.perf_counter() - start
    build_cpu = time.thread_time() - start_cpu
    gc.freeze()  # as DirectoryService.refresh does after each rebuild
    rss_index = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    latencies, cpu, answered = [], [], 0
    for query in queries:
        start, start_cpu = time.perf_counter(), time.thread_time()
        outcome = index.search(query, limit=5)
        latencies.append((time.perf_counter() - start) * 1000)
        cpu.append((time.thread_time() - start_cpu) * 1000)
        answered += bool(outcome.results)
    start = time.perf_counter()
    choices = [" ".join((r.organisation, r.service, " ".join(r.keywords), " ".join(r.coverage)))
               for r in records]
    baseline_build = time.perf_counter() - start
    sample = queries[:BASELINE_QUERIES.get(size, 100)]
    baseline, baseline_cpu = [], []
    for query in sample:
        start, start_cpu = time.perf_counter(), time.thread_time()
        process.extract(query, choices, scorer=fuzz.token_set_ratio, limit=5)
        baseline.append((time.perf_counter() - start) * 1000)
        baseline_cpu.append((time.thread_time() - start_cpu) * 1000)
    rss_end = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"size": size, "build_s": build, "build_cpu_s": build_cpu,
            "latency": percentiles(latencies), "cpu_latency": percentiles(cpu),
            "baseline_cpu_latency": percentiles(baseline_cpu),
            "answered": answered, "queries": len(queries),
            "index_rss_mb": (rss_index - rss_before) / 1024, "peak_rss_mb": rss_end / 1024,
            "baseline_build_s": baseline_build, "baseline_latency": percentiles(baseline),
            "baseline_queries": len(sample)}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv if argv is not None else
                             (sys.argv[1:] if __name__ == "__main__" else []))
    if args.one:
        print(json.dumps(run_size(args.one, args.seed)))
        return
    print("directory search benchmark (synthetic directories over the real gazetteer); "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    header = (f"{'entries':>8} | {'build s':>8} {'cpu s':>6} | {'p50 ms':>7} {'p95 ms':>7} "
              f"{'p99 ms':>7} {'cpu p95':>7} | {'index MB':>8} {'peak MB':>8} | "
              f"{'baseline p50':>12} {'p95':>8} {'p99':>8} {'cpu p95':>8} ({'n':>4}) | "
              f"{'p95 speed-up':>12}")
    print(header)
    print("-" * len(header))
    for size in (int(s) for s in args.sizes.split(",")):
        out = subprocess.run([sys.executable, "-m", "benchmarks.directory_search",
                              "--one", str(size), "--seed", str(args.seed)], cwd=ROOT,
                             capture_output=True, text=True, check=True)
        r = json.loads(out.stdout.strip().splitlines()[-1])
        p50, p95, p99 = r["latency"]
        b50, b95, b99 = r["baseline_latency"]
        c95, bc95 = r["cpu_latency"][1], r["baseline_cpu_latency"][1]
        print(f"{r['size']:>8} | {r['build_s']:>8.2f} {r['build_cpu_s']:>6.2f} | {p50:>7.3f} "
              f"{p95:>7.3f} {p99:>7.3f} {c95:>7.3f} | {r['index_rss_mb']:>8.1f} "
              f"{r['peak_rss_mb']:>8.1f} | {b50:>12.2f} {b95:>8.2f} {b99:>8.2f} {bc95:>8.2f} "
              f"({r['baseline_queries']:>4}) | {b95 / p95:>11.0f}x")
    print("latencies in ms per query, wall clock (cpu = CPU time of the searching thread, "
          "which other processes on a shared machine do not inflate); 1,000 mixed queries, the "
          "baseline on the first n of them; index MB = growth of the peak RSS while building "
          "the index; peak MB = the whole process (records, index, baseline strings)")


if __name__ == "__main__":
    main()

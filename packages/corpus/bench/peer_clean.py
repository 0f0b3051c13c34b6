# Peer of the clean benchmark: a short one-process Python script with the same filters as bench/clean-once.ts
# (length ≥ 20 characters, Thai share of letters ≥ 0.5, Gopher's duplicate line/paragraph and n-gram repetition
# limits, three sensitive words) minus ICU word segmentation and language ID, which plain Python lacks: its
# n-grams are of whitespace tokens and its word list matches substrings. Reads JSONL shards, writes the kept
# documents as JSONL. Prints documents, kept and CPU seconds (time.process_time) as JSON.
import json, re, sys, time
from collections import Counter

out_path, inputs = sys.argv[1], sys.argv[2:]
TOP = {2: 0.2, 3: 0.18, 4: 0.16}
DUPLICATE = {5: 0.15, 6: 0.14, 7: 0.13, 8: 0.12, 9: 0.11, 10: 0.1}
WORDS = ["ทาส", "การพนัน", "ยาเสพติด"]
THAI = re.compile(r"[\u0e00-\u0e7f]")

def repeated(items):
    seen, count, chars = set(), 0, 0
    for item in items:
        if item in seen:
            count, chars = count + 1, chars + len(item)
        seen.add(item)
    return count, chars

def keep(text):
    if len(text.strip()) < 20:
        return False
    letters = sum(1 for c in text if c.isalpha())
    if letters == 0 or len(THAI.findall(text)) / letters < 0.5:
        return False
    for parts, limit_n, limit_c in ((re.split(r"\n{2,}", text), 0.3, 0.2), (text.split("\n"), 0.3, 0.2)):
        parts = [p.strip() for p in parts if p.strip()]
        if len(parts) > 1:
            count, chars = repeated(parts)
            if count / len(parts) > limit_n or chars / len(text) > limit_c:
                return False
    words = text.split()
    if len(words) >= 50:
        total = sum(len(w) for w in words)
        for n, limit in TOP.items():
            grams = Counter(tuple(words[i:i + n]) for i in range(len(words) - n + 1))
            gram, freq = grams.most_common(1)[0]
            if freq > 1 and freq * sum(len(w) for w in gram) / total > limit:
                return False
        for n, limit in DUPLICATE.items():
            seen, covered = set(), [False] * len(words)
            for i in range(len(words) - n + 1):
                gram = tuple(words[i:i + n])
                if gram in seen:
                    for j in range(i, i + n):
                        covered[j] = True
                seen.add(gram)
            if sum(len(w) for w, c in zip(words, covered) if c) / total > limit:
                return False
    lower = text.lower()
    return not any(word in lower for word in WORDS)

cpu, start = time.process_time(), time.perf_counter()
documents = kept = 0
with open(out_path, "w", encoding="utf8") as out:
    for path in inputs:
        with open(path, encoding="utf8") as lines:
            for line in lines:
                record = json.loads(line)
                documents += 1
                if keep(record["text"]):
                    kept += 1
                    out.write(json.dumps(record, ensure_ascii=False) + "\n")
print(json.dumps({"documents": documents, "kept": kept, "seconds": time.perf_counter() - start, "cpuSeconds": time.process_time() - cpu}))

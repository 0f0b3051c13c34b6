# Peer of the dedup benchmark: datasketch's MinHash + MinHashLSH algorithm, re-implemented faithfully in NumPy
# because datasketch itself is not in this machine's pip index (`pip download --no-deps datasketch` finds no
# distribution). As datasketch 1.x does: shingles hashed with sha1_hash32 (first 4 bytes of SHA-1, little-endian),
# 128 permutations (a·h + b) mod (2^61 − 1) & (2^32 − 1) drawn from np.random.RandomState(seed), update_batch
# vectorised, and MinHashLSH(threshold=0.8) with its optimal bands × rows (9 × 13) keyed by the bytes of each
# band. Reads {"shingles": [...]} JSONL (the same shingle strings transllm hashes), inserts every document, then
# queries each document's candidates. Prints CPU seconds and the candidate pairs (for recall) as JSON.
import hashlib, json, struct, sys, time
import numpy as np

MERSENNE = np.uint64((1 << 61) - 1)
MAX_HASH = np.uint64((1 << 32) - 1)
NUM_PERM, BANDS, ROWS = 128, 9, 13

def sha1_hash32(data):
    return struct.unpack("<I", hashlib.sha1(data).digest()[:4])[0]

documents = [json.loads(line)["shingles"] for line in open(sys.argv[1], encoding="utf8")]
cpu = time.process_time()
gen = np.random.RandomState(1)
a, b = np.array([(gen.randint(1, MERSENNE, dtype=np.uint64), gen.randint(0, MERSENNE, dtype=np.uint64)) for _ in range(NUM_PERM)], dtype=np.uint64).T
tables = [dict() for _ in range(BANDS)]
keys = []
for index, shingles in enumerate(documents):
    if not shingles:
        keys.append(None)
        continue
    hv = np.array([sha1_hash32(s.encode("utf8")) for s in shingles], dtype=np.uint64)
    phv = np.bitwise_and((np.outer(hv, a) + b) % MERSENNE, MAX_HASH)
    hashvalues = phv.min(axis=0)
    band_keys = [bytes(hashvalues[i * ROWS:(i + 1) * ROWS].byteswap().data) for i in range(BANDS)]
    for table, key in zip(tables, band_keys):
        table.setdefault(key, []).append(index)
    keys.append(band_keys)
signing = time.process_time() - cpu
pairs = set()
for index, band_keys in enumerate(keys):
    if band_keys is None:
        continue
    for table, key in zip(tables, band_keys):
        for other in table[key]:
            if other != index:
                pairs.add((min(index, other), max(index, other)))
total = time.process_time() - cpu
print(json.dumps({"documents": len(documents), "signAndIndexCpuSeconds": signing, "cpuSeconds": total, "docsPerCpuSecond": len(documents) / total, "candidatePairs": sorted(pairs)}))
